import { CreateAuthTables1795903193099 } from './1795903193099-CreateAuthTables';
import { AccountSessions1796180939383 } from './1796180939383-AccountSessions';
import { SealSecretsAndRotateKeys1796180991179 } from './1796180991179-SealSecretsAndRotateKeys';

/** In the order they run; `npm run migration:generate` keeps this list. */
export const AUTH_MIGRATIONS = [
  CreateAuthTables1795903193099,
  AccountSessions1796180939383,
  SealSecretsAndRotateKeys1796180991179,
];
