using { account as A, contact as C } from '../db/schema';

@path: '/odata/v4'
service BenchService {
  entity account as projection on A;
  entity contact as projection on C;
}
