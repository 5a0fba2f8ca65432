/**
 * Starts the real server in-process on a free port against a test database, with a config object built
 * from defaults plus the test's overrides (validated by the same loader as a config file).
 */
import { configFromObject } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { createLogger } from '../../src/log.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { Writable } from 'node:stream';

export interface TestServer {
  readonly root: string;
  readonly server: RunningServer;
  readonly config: Config;
  /** fetch relative to the service root ('account?$top=1'), or absolute */
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  request(method: string, path: string, opts?: { headers?: Record<string, string>; body?: unknown }): Promise<Response>;
  /** log lines the server wrote */
  readonly logs: string[];
  stop(): Promise<void>;
}

export async function startTestServer(dbUrl: string, overrides: Record<string, unknown>, start: { requestTimeoutMs?: number } = {}): Promise<TestServer> {
  const raw = {
    database: { url: dbUrl },
    server: { rootPath: '/odata/v4' },
    auth: { open: true },
    rateLimit: { enabled: false },
    log: { level: 'info' },
    ...overrides,
  };
  const config = configFromObject(raw, 'test-config.json', {});
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  const logger = createLogger(config.log.level, sink);
  const server = await startServer(config, { logger, port: 0, ...start });
  const root = `http://127.0.0.1:${server.port}/odata/v4/`;
  const abs = (p: string): string => (/^https?:/.test(p) ? p : root + p);
  return {
    root,
    server,
    config,
    logs,
    get: (p, headers = {}) => fetch(abs(p), { headers }),
    request: (method, p, opts = {}) =>
      fetch(abs(p), {
        method,
        headers: { ...(opts.body !== undefined && typeof opts.body !== 'string' ? { 'Content-Type': 'application/json' } : {}), ...(opts.headers ?? {}) },
        ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
      }),
    stop: () => server.stop(2000),
  };
}
