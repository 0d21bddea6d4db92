#!/usr/bin/env node
// didomi-sync serve | migrate | backfill <export folder> [--date YYYY-MM-DD] [--dry-run]
import { ConfigError, loadConfig } from '../config.ts';
import { createLogger } from '../observability/logger.ts';
import { createService } from '../service.ts';
import { openStore } from '../store/open.ts';
import { isConnectionError } from '../store/connection-errors.ts';
import { backfillCommand } from './backfill-command.ts';

const command = process.argv[2] ?? 'serve';
let config;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`didomi-sync: ${e.message}\nSee config/middleware.env.example for every variable.`);
    process.exit(2);
  }
  throw e;
}
const logger = createLogger(config.LOG_LEVEL);
process.on('unhandledRejection', (reason) => logger.error({ err: String(reason) }, 'unhandled rejection'));
// Last line of defence for issue 11 item 2: a PostgreSQL connection lost outside any query (an 'error'
// event no listener took) must not kill the service; the store is durable and the next query
// reconnects. Anything else is a bug: logged with its stack, then the process exits as Node would.
process.on('uncaughtException', (err) => {
  if (isConnectionError(err)) {
    logger.error({ err: err.message, stack: err.stack }, 'database connection lost outside a query; the store reconnects');
    return;
  }
  logger.fatal({ err: err.message, stack: err.stack }, 'uncaught exception');
  process.exit(1);
});

if (command === 'migrate') {
  const store = await openStore(config);
  await store.migrate();
  await store.close();
  logger.info({ store: store.engine }, 'migrations applied');
} else if (command === 'serve') {
  const service = await createService(config, { logger });
  await service.listen();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await service.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
} else if (command === 'backfill') {
  process.exit(await backfillCommand(config, process.argv.slice(3)));
} else {
  console.error(`didomi-sync: unknown command ${command} (use serve, migrate or backfill)`);
  process.exit(2);
}
