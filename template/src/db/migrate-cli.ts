import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { openDatabase } from './open.ts';
import { migrate } from './migrate.ts';

const config = loadConfig(process.env);
const logger = createLogger(config);
const db = await openDatabase(config);
try {
  const applied = await migrate(db);
  logger.info({ applied }, applied.length === 0 ? 'database schema is up to date' : 'migrations applied');
} finally {
  await db.close();
  logger.flush();
}
