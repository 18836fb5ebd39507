import 'reflect-metadata';
import { userInfo } from 'node:os';
import { authConfigSchema, awaitConfigOrExit, loadConfigOrExit } from '@cloudstore/config';
import { loadMasterKeyring } from '@cloudstore/master-key';
import { createLogger, runMain } from '@cloudstore/observability';
import { rotateSigningKeyOnce } from '../auth.bootstrap';

/**
 * `npm run keys:rotate`: with auth's configuration (DATABASE_URL, REDIS_URL, MASTER_KEY or
 * DATA_DIR/master.key), adds a new token signing key that every auth replica signs with from its
 * next token on, and prints when the previous keys stop verifying.
 */
runMain('keys:rotate', async () => {
  const config = loadConfigOrExit('keys:rotate', authConfigSchema);
  const logger = createLogger('keys-rotate', config.LOG_LEVEL);
  const masterKeys = await awaitConfigOrExit('keys:rotate', loadMasterKeyring(config, logger));
  const rotation = await rotateSigningKeyOnce(config, logger, masterKeys, userInfo().username);
  const retiring = rotation.retiring.map((k) => `${k.keyId} verifies until ${k.verifyUntil.toISOString()}`);
  process.stdout.write(
    `cloudstore: token signing key ${rotation.keyId} signs from now on${retiring.length ? `; ${retiring.join('; ')}` : ''}\n`,
  );
  // The database pool and Redis are closed; exit now rather than wait for their sockets to linger out.
  process.exit(0);
});
