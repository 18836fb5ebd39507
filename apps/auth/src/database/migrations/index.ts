import { CreateAuthTables1795902598101 } from './1795902598101-CreateAuthTables';

/** In the order they run; `npm run migration:generate` keeps this list. */
export const AUTH_MIGRATIONS = [CreateAuthTables1795902598101];
