/**
 * Access tokens as every service sees them: the claims, the Redis revocation list shared by the
 * auth service (which revokes) and the gateway (which checks), and local verification.
 */
export * from './claims';
export * from './token-revocations';
export * from './access-token-verifier';
