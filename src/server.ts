/**
 * Starting and stopping a server instance: database (given or embedded with the demo), catalog, rate
 * limiter, HTTP listener; and a graceful stop that refuses new connections, lets in-flight requests
 * finish (up to a deadline), then closes the pool. Used by main.ts and by the end-to-end tests.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { ODataError } from './errors/odata-error.js';
import type { Config } from './config/types.js';
import { CatalogStore } from './catalog/store.js';
import { Db } from './db/pool.js';
import { ensureDemo } from './db/demo.js';
import { startEmbedded, type EmbeddedDb } from './db/embedded.js';
import { createApp } from './http/app.js';
import { deriveTokenSecret } from './http/context.js';
import { logEvent, type Logger } from './log.js';
import { createRateLimiter, type RateLimiter } from './ratelimit/limiter.js';
import { releaseStartupMemory } from './memory.js';

export interface RunningServer {
  readonly url: string;
  readonly serviceRoot: string;
  readonly port: number;
  readonly config: Config;
  readonly db: Db;
  readonly catalog: CatalogStore;
  stop(deadlineMs?: number): Promise<void>;
  /** Applies a new configuration (users, exposed objects, limits) without dropping connections. */
  reload(config: Config): Promise<void>;
}

export interface StartOptions {
  readonly logger: Logger;
  /** Where the embedded PostgreSQL keeps its data when config.database.url is empty. */
  readonly embeddedDir?: string;
  /** Listen on this port instead of config.server.port (0 = any free port). */
  readonly port?: number;
  /** Time to receive a whole request (default 120 s; tests shorten it). */
  readonly requestTimeoutMs?: number;
  /** Hand start-up's garbage back before listening (memory.ts); the production entry point sets it. */
  readonly releaseStartupMemory?: boolean;
}

interface DemoCredential {
  readonly user: string;
  readonly password: string;
}

/** The demo's credential: made once on first start, kept beside the embedded data. */
function demoCredential(dir: string): DemoCredential {
  const file = path.join(dir, 'demo-credential.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoCredential;
  const cred = { user: randomBytes(16).toString('hex'), password: randomBytes(16).toString('hex') };
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(cred), { mode: 0o600 });
  return cred;
}

export async function startServer(config0: Config, opts: StartOptions): Promise<RunningServer> {
  const { logger } = opts;
  let config = config0;
  let embedded: EmbeddedDb | undefined;
  let demo: DemoCredential | undefined;
  if (config.database.url === '') {
    const dir = opts.embeddedDir ?? '.data';
    logEvent(logger, 'info', 'db.embedded.starting', { dataDir: path.resolve(dir, 'pg') });
    embedded = await startEmbedded(path.join(dir, 'pg'));
    logEvent(logger, 'info', 'db.embedded.ready', { port: embedded.port });
    config = { ...config, database: { ...config.database, url: embedded.url } };
    if (!config.auth.open && config.auth.users.length === 0) {
      demo = demoCredential(dir);
      config = { ...config, auth: { ...config.auth, users: [{ name: demo.user, password: demo.password }] } };
    }
  }
  const db = new Db({ ...config.database, applicationName: 'pg-odata' });
  let limiter: RateLimiter | undefined;
  try {
    if (embedded) {
      if (await ensureDemo(db)) logEvent(logger, 'info', 'db.demo.seeded', {});
    }
    const catalog = new CatalogStore(db, config);
    const snapshot = await catalog.load();
    for (const w of snapshot.warnings) logEvent(logger, 'warn', 'catalog.warning', { warning: w });
    logEvent(logger, 'info', 'catalog.loaded', { entitySets: snapshot.entitySets.map((s) => s.name) });
    if (config.rateLimit.enabled) {
      limiter = await createRateLimiter({
        points: config.rateLimit.points,
        windowSeconds: config.rateLimit.windowSeconds,
        burst: config.rateLimit.burst,
        redisUrl: config.rateLimit.redisUrl,
        db,
      });
    }
    const deps = { config, logger, db, catalog, tokenSecret: deriveTokenSecret(config) };
    // The request handler is swapped as a whole on reload (new users, exposed objects, limits).
    let handler = createApp(deps, limiter ? { limiter } : {}).callback();
    const server = http.createServer({ maxHeaderSize: MAX_REQUEST_HEAD, keepAliveTimeout: 65_000, requestTimeout: opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, connectionsCheckingInterval: Math.min(30_000, Math.ceil((opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS) / 4)) }, (req, res) => handler(req, res));
    server.headersTimeout = Math.min(66_000, opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS); // Node wants it <= requestTimeout
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket));
    const port = opts.port ?? config.server.port;
    if (opts.releaseStartupMemory) await releaseStartupMemory();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, config.server.host, () => resolve());
    });
    const actual = (server.address() as AddressInfo).port;
    const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? 'localhost' : config.server.host;
    const url = `http://${host}:${actual}`;
    const serviceRoot = config.server.publicUrl ? `${config.server.publicUrl}/` : `${url}${config.server.rootPath}/`;
    const first = snapshot.entitySets[0];
    const credential = demo ? `${demo.user}:${demo.password}` : undefined;
    const sample = first
      ? `curl ${credential ? `-u ${credential} ` : ''}'${serviceRoot}${first.name}?$top=5&$count=true'`
      : `curl '${serviceRoot}$metadata'`;
    if (demo) logEvent(logger, 'info', 'auth.demo_credential', { user: demo.user, note: 'demo credential of the embedded database; the password is in the sample query and in .data/demo-credential.json' });
    logEvent(logger, 'info', 'server.ready', { serviceRoot, port: actual, sampleQuery: sample }, `OData service ready at ${serviceRoot} — try: ${sample}`);

    let stopping: Promise<void> | undefined;
    const stop = (deadlineMs = 25_000): Promise<void> => {
      stopping ??= (async () => {
        logEvent(logger, 'info', 'server.stopping', { deadlineMs });
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
        await closed;
        clearTimeout(timer);
        await limiter?.close().catch(() => undefined);
        await db.close().catch(() => undefined);
        if (embedded) await embedded.stop().catch(() => undefined);
        logEvent(logger, 'info', 'server.stopped', {});
      })();
      return stopping;
    };
    let current = config;
    let liveCatalog = catalog;
    const reload = async (next: Config): Promise<void> => {
      // The connection, listener and rate-limit store are kept; say so if the new file changes them.
      const kept = (['database', 'rateLimit'] as const).filter((k) => JSON.stringify(next[k]) !== JSON.stringify(config0[k]));
      let nextConfig: Config = { ...next, database: current.database, server: { ...next.server, port: current.server.port } };
      if (demo && !nextConfig.auth.open && nextConfig.auth.users.length === 0) {
        nextConfig = { ...nextConfig, auth: { ...nextConfig.auth, users: [{ name: demo.user, password: demo.password }] } };
      }
      // A new store and app, swapped in together: requests never see the new catalog with the old users.
      const store = new CatalogStore(db, nextConfig);
      const snap = await store.load();
      for (const w of snap.warnings) logEvent(logger, 'warn', 'catalog.warning', { warning: w });
      handler = createApp({ config: nextConfig, logger, db, catalog: store, tokenSecret: deriveTokenSecret(nextConfig) }, limiter ? { limiter } : {}).callback();
      current = nextConfig;
      liveCatalog = store;
      logEvent(logger, 'info', 'config.reloaded', { entitySets: snap.entitySets.map((x) => x.name), users: nextConfig.auth.users.length, ...(kept.length ? { restartNeededFor: kept } : {}) });
    };
    return {
      url,
      serviceRoot,
      port: actual,
      config,
      db,
      get catalog() {
        return liveCatalog;
      },
      stop,
      reload,
    };
  } catch (e) {
    await limiter?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    if (embedded) await embedded.stop().catch(() => undefined);
    throw e;
  }
}

/**
 * The request head (request line and headers) Node parses before our middleware runs: URLs up to this
 * size reach the URL cap (server.maxUrlLength, default 16 KB) and get its 414, and header fields over
 * 64 KB get the header cap's 431 (requestHeadLimits in middleware.ts). A longer head is refused by Node's parser;
 * answerClientError gives it a 431 with an OData error body.
 */
const MAX_REQUEST_HEAD = 256 * 1024;

/**
 * Time allowed to receive a whole request, body included (Node's requestTimeout): a client that stops
 * sending halfway through a body no longer holds its connection forever. 120 s is Salesforce's own
 * timeout; the time to answer is not limited by it.
 */
const REQUEST_TIMEOUT_MS = 120_000;

/** Protocol errors Node's parser raises, answered with OData error bodies instead of Node's bare 400/431. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || (err.code === 'ECONNRESET' && !socket.readable)) {
    socket.destroy();
    return;
  }
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new ODataError('HeadersTooLarge', `The request line and headers exceed ${MAX_REQUEST_HEAD / 1024} KB; send long queries in a $batch request.`)
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new ODataError('RequestTimeout', 'The request was not received in time.')
        : new ODataError('BadRequest', 'The request is not well-formed HTTP.');
  const body = JSON.stringify(e.toJSON());
  socket.end(`HTTP/1.1 ${e.status} ${http.STATUS_CODES[e.status]}\r\nContent-Type: application/json\r\nOData-Version: 4.0\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
