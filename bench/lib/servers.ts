/**
 * The servers under test, started one at a time on 127.0.0.1 and a free port: ours as shipped, ours with
 * `database.coalesceReads` off (the read workloads only: what one request costs when no identical request
 * shares its execution), the floor and CAP.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchDb } from './db.js';
import { freePort, log, sleep } from './util.js';

/**
 * `web: A=1 node --flag dist/main.js` in the Procfile -> env { A: '1' } and args ['--flag', 'dist/main.js']:
 * ours starts exactly as in production.
 */
function productionCommand(repoRoot: string): { env: Record<string, string>; args: string[] } {
  const line = readFileSync(join(repoRoot, 'Procfile'), 'utf8').split('\n').find((l) => l.startsWith('web:'));
  const words = (line ?? 'web: node dist/main.js').slice(4).trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) {
    const w = words.shift()!;
    env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
  }
  return { env, args: words[0] === 'node' ? words.slice(1) : ['dist/main.js'] };
}

export type ServerName = 'ours' | 'ours-solo' | 'floor' | 'cap';

export interface ServerDef {
  name: ServerName;
  label: string;
  /** Build or other preparation; returns why the server is not available, or null. */
  prepare(): string | null;
  spawnArgs(port: number, db: BenchDb): { cmd: string; args: string[]; cwd: string; env: NodeJS.ProcessEnv };
  readyPath: string;
  headers: Record<string, string>;
  /** W7 walk: $orderby=id&$top&$skip instead of nextLinks. */
  walkBySkip: boolean;
  /** W8: the client supplies the key on POST (CAP does not let PostgreSQL's serial fill an Integer key). */
  postWithId: boolean;
  auth: string;
  /** runs the read workloads only (W1-W6), not W7 and W8 */
  readsOnly?: boolean;
}

export interface Running {
  def: ServerDef;
  child: ChildProcess;
  pid: number;
  port: number;
  serviceRoot: string;
}

const children = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try { c.kill('SIGKILL'); } catch { /* gone */ }
    }
  }
}

export function serverDefs(benchDir: string, repoRoot: string, opts: { build: boolean; password: string }): ServerDef[] {
  const benchNodeModules = join(benchDir, 'node_modules');
  const basic = 'Basic ' + Buffer.from(`bench:${opts.password}`).toString('base64');
  let built = false;
  const oursDef = (name: ServerName, label: string, configFile: string): ServerDef => ({
    name,
    label,
    prepare() {
      if (opts.build && !built && existsSync(join(repoRoot, 'src', 'main.ts'))) {
        log('building ours: npm run build');
        const r = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
        built = true;
        if (r.status !== 0) return `npm run build failed: ${(r.stdout + r.stderr).trim().split('\n').slice(-5).join(' | ')}`;
      }
      if (!existsSync(join(repoRoot, 'dist', 'main.js'))) return 'dist/main.js is missing (no src/main.ts yet, or the build failed)';
      return null;
    },
    spawnArgs: (port, db) => ({
      cmd: process.execPath,
      // As in production: the node flags and entry point of the Procfile's web line.
      args: [...productionCommand(repoRoot).args, '--config', join(benchDir, configFile)],
      cwd: repoRoot,
      env: { ...process.env, ...productionCommand(repoRoot).env, NODE_ENV: 'production', PORT: String(port), DATABASE_URL: db.url, BENCH_PASSWORD: opts.password },
    }),
    readyPath: '/healthz',
    headers: { authorization: basic },
    walkBySkip: false,
    postWithId: false,
    auth: `HTTP Basic + rate limiting on (as configured in bench/${configFile})`,
  });
  return [
    oursDef('ours', 'pg-odata-server (ours)', 'ours.config.json'),
    { ...oursDef('ours-solo', 'pg-odata-server, database.coalesceReads off (ours-solo)', 'ours-solo.config.json'), readsOnly: true },
    {
      name: 'floor',
      label: 'floor (node:http + pg, hand-written SQL)',
      prepare: () => null,
      spawnArgs: (port, db) => ({
        cmd: process.execPath,
        args: [join(benchDir, 'floor', 'server.mjs')],
        cwd: benchDir,
        env: { ...process.env, NODE_ENV: 'production', PORT: String(port), DATABASE_URL: db.url },
      }),
      readyPath: '/healthz',
      headers: {},
      walkBySkip: false,
      postWithId: false,
      auth: 'none',
    },
    {
      name: 'cap',
      label: 'SAP CAP (@sap/cds 9 + @cap-js/postgres 2)',
      prepare: () => (existsSync(join(benchNodeModules, '@sap', 'cds', 'bin', 'serve.js')) ? null : '@sap/cds is not installed in bench/node_modules'),
      spawnArgs: (port, db) => ({
        cmd: process.execPath,
        args: [join(benchNodeModules, '@sap', 'cds', 'bin', 'serve.js')],
        cwd: join(benchDir, 'cap'),
        env: {
          ...process.env,
          NODE_ENV: 'production',
          PORT: String(port),
          CDS_CONFIG: JSON.stringify({
            requires: { db: { credentials: { host: db.host, port: db.port, user: db.user, password: db.password, database: db.database } } },
          }),
        },
      }),
      readyPath: '/healthz',
      headers: {},
      walkBySkip: false,
      postWithId: true,
      auth: 'none (cds.requires.auth = dummy)',
    },
  ];
}

export async function startServer(def: ServerDef, db: BenchDb, logDir: string): Promise<Running | string> {
  const port = await freePort();
  const { cmd, args, cwd, env } = def.spawnArgs(port, db);
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${def.name}.log`);
  const out = createWriteStream(logFile, { flags: 'a' }); // one start per workload: the log keeps them all
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => { tail = (tail + d.toString()).slice(-2000); });
  child.stdout?.on('data', (d: Buffer) => { tail = (tail + d.toString()).slice(-2000); });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const serviceRoot = `http://127.0.0.1:${port}/odata/v4/`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited) {
      children.delete(child);
      return `exited during start-up (code ${String(child.exitCode)}); see ${logFile}: ${tail.trim().split('\n').slice(-3).join(' | ').slice(0, 400)}`;
    }
    try {
      const r = await fetch(`http://127.0.0.1:${port}${def.readyPath}`, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.status === 200) return { def, child, pid: child.pid!, port, serviceRoot };
    } catch { /* not yet */ }
    await sleep(250);
  }
  await stopServer({ def, child, pid: child.pid!, port, serviceRoot });
  return `GET ${def.readyPath} did not answer 200 within 60 s; see ${logFile}`;
}

export async function stopServer(r: Running): Promise<void> {
  const c = r.child;
  if (c.exitCode === null && c.signalCode === null) {
    const gone = new Promise<void>((res) => c.once('exit', () => res()));
    c.kill('SIGTERM');
    const t = setTimeout(() => { try { c.kill('SIGKILL'); } catch { /* gone */ } }, 5000);
    await gone;
    clearTimeout(t);
  }
  children.delete(c);
}
