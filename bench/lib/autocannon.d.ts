// Minimal typing of the parts of autocannon that the harness uses.
declare module 'autocannon' {
  interface Histogram { average: number; mean: number; p50: number; p90: number; p97_5: number; p99: number; max: number; min: number }
  interface Result {
    duration: number;
    latency: Histogram;
    requests: Histogram & { total: number; sent: number };
    throughput: Histogram & { total: number };
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    '1xx': number;
    '3xx': number;
    '4xx': number;
    '5xx': number;
    statusCodeStats?: Record<string, { count: number }>;
  }
  /** One step of a connection's request loop (autocannon's `requests`). */
  export interface AutocannonRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    /** the request to send, or a falsy value to restart the loop from its first step */
    setupRequest?: (req: AutocannonRequest, context: any) => AutocannonRequest | null | undefined;
    onResponse?: (status: number, body: string, context: any, headers?: Record<string, string>) => void;
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    pipelining?: number;
    requests?: AutocannonRequest[];
  }
  /** The run: a promise of its result that also reports each answer as it comes. */
  interface Instance extends Promise<Result> {
    on(event: 'start', fn: () => void): Instance;
    on(event: 'response', fn: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): Instance;
    on(event: 'reqError', fn: (error: Error) => void): Instance;
  }
  function autocannon(opts: Options): Instance;
  export default autocannon;
}
