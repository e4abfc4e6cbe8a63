import { argv, exit, stderr, stdout } from 'node:process';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../../config.ts';
import { openDatabase } from '../../db/open.ts';
import { migrate } from '../../db/migrate.ts';
import { createUserService } from '../users/service.ts';

// `npm run admin:create -- <email>`: the only way an account becomes admin. No default admin exists (D8).
const email = z.email().max(254).safeParse(argv[2]);
if (!email.success || argv.length !== 3) {
  stderr.write('usage: npm run admin:create -- <email of an existing user>\n');
  exit(2);
}

try {
  const db = await openDatabase(loadConfig(process.env));
  try {
    await migrate(db);
    const user = await createUserService(db).promoteToAdmin(email.data);
    if (user === undefined) {
      stderr.write('no user has this e-mail address: register first, then promote\n');
      exitCode(1);
    } else {
      stdout.write(`${user.email} (${user.id}) is now an admin\n`);
    }
  } finally {
    await db.close();
  }
} catch (err) {
  stderr.write(`${err instanceof ConfigError ? err.message : 'failed: the database could not be updated'}\n`);
  exitCode(1);
}

function exitCode(code: number): void {
  process.exitCode = code;
}
