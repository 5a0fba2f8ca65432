/**
 * `npm run hash-password [-- <password>]`: prints the scrypt hash line to paste into the config file's
 * `auth.users[].password`. The password comes from argv[2] or, when absent, from stdin (so it stays out of
 * the shell history: `printf %s "$PW" | npm run -s hash-password`). One trailing newline is stripped.
 */
import { hashPassword } from '../auth/password.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === '-h' || arg === '--help') {
    process.stdout.write('usage: npm run hash-password -- <password>   or   printf %s "$PASSWORD" | npm run -s hash-password\n');
    return;
  }
  if (arg === undefined && process.stdin.isTTY) process.stderr.write('Password (end with Enter, then Ctrl-D): ');
  const password = arg ?? (await readStdin());
  if (password === '') {
    process.stderr.write('hash-password: empty password\n');
    process.exitCode = 2;
    return;
  }
  process.stdout.write(`${await hashPassword(password)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`hash-password: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
