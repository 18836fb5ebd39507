import 'reflect-metadata';
import { authConfigSchema, awaitConfigOrExit, loadConfigOrExit } from '@cloudstore/config';
import { loadMasterKeyring } from '@cloudstore/master-key';
import { createLogger, runMain } from '@cloudstore/observability';
import { resealSecretsOnce } from '../auth.bootstrap';

/**
 * The auth part of `npm run keys:rotate-master`: with auth's configuration (MASTER_KEY the new
 * key, MASTER_KEY_PREVIOUS the old one), re-seals every signing key and TOTP secret under the
 * new key. A value no key of the ring opens stops it with an error: nothing is left that only a
 * removed key could open.
 */
runMain('keys:rotate-master', async () => {
  const config = loadConfigOrExit('keys:rotate-master', authConfigSchema);
  const logger = createLogger('keys-rotate-master', config.LOG_LEVEL);
  const masterKeys = await awaitConfigOrExit('keys:rotate-master', loadMasterKeyring(config, logger));
  const resealed = await resealSecretsOnce(config, logger, masterKeys);
  process.stdout.write(
    `cloudstore: auth re-sealed ${resealed.signingKeys} signing keys and ${resealed.totpSecrets} TOTP secrets; all are sealed under master key ${masterKeys.current.id}\n`,
  );
  // The database pool and Redis are closed; exit now rather than wait for their sockets to linger out.
  process.exit(0);
});
