/**
 * Composition root: load the config (file from --config / ODATA_CONFIG / config/default.json), start the
 * server, and wire the signals: SIGTERM and SIGINT drain in-flight requests (up to 25 s) and exit 0.
 * A configuration or catalog problem stops the start with one line naming the file, field and problem.
 */
import { ConfigError, configPathFrom, loadConfig } from './config/load.js';
import { CatalogError } from './catalog/build.js';
import { createLogger, logEvent } from './log.js';
import { startServer } from './server.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(configPathFrom(process.argv.slice(2), process.env));
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  if (!config.auth.open && config.auth.users.length === 0 && config.database.url !== '') {
    process.stderr.write(`${config.file}: /auth/users: no users are configured; add users, or set "auth": {"open": true} for local use only\n`);
    process.exit(1);
  }
  const logger = createLogger(config.log.level);
  let server;
  try {
    server = await startServer(config, { logger, releaseStartupMemory: true });
  } catch (e) {
    if (e instanceof CatalogError) {
      process.stderr.write(`${e.message}\n`);
      logger.flush();
      process.exit(1);
    }
    logEvent(logger, 'error', 'server.failed', { err: e instanceof Error ? e.message : String(e) });
    logger.flush();
    process.stderr.write(`failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
  const shutdown = (signal: string): void => {
    logEvent(logger, 'info', 'server.stopping', { signal });
    server
      .stop(25_000)
      .then(() => {
        logger.flush();
        process.exit(0);
      })
      .catch(() => process.exit(1));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // SIGHUP: re-read the config file and the database schema; a bad file keeps the running config.
  const file = configPathFrom(process.argv.slice(2), process.env);
  process.on('SIGHUP', () => {
    let next;
    try {
      next = loadConfig(file);
    } catch (e) {
      logEvent(logger, 'error', 'config.invalid', { err: e instanceof Error ? e.message : String(e) });
      return;
    }
    server.reload(next).catch((e: unknown) => logEvent(logger, 'error', 'catalog.failed', { err: e instanceof Error ? e.message : String(e) }));
  });
}

void main();
