import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';

let sequence = 0;

/** A name no other test uses: `prefix`, a counter and random hex (letters, digits and '_' only). */
export function uniqueName(prefix = 'u'): string {
  sequence += 1;
  return `${prefix}_${sequence}${randomBytes(3).toString('hex')}`;
}

/** A new account's input: a unique username and email, and a password every policy accepts. */
export function newUserInput(overrides: Partial<{ username: string; email: string; password: string }> = {}) {
  const username = overrides.username ?? uniqueName('user');
  return {
    username,
    email: overrides.email ?? `${username}@example.com`,
    password: overrides.password ?? `Qx7!${randomBytes(8).toString('hex')}-Zebra`,
  };
}

/** Where a request came from: a client address of its own, so per-address limits of tests never meet. */
export function newOrigin(): { clientAddress: string; userAgent: string } {
  return { clientAddress: `10.${randomInt(0, 256)}.${randomInt(0, 256)}.${randomInt(1, 255)}`, userAgent: 'jest' };
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Random bytes of a chunk with their SHA-256 and a fresh chunk id (32 hex digits, as the metadata makes them). */
export function newChunk(size = 1000): { id: string; data: Buffer; sha256: string; sizeBytes: number } {
  const data = randomBytes(size);
  return { id: randomUUID().replace(/-/g, ''), data, sha256: sha256Hex(data), sizeBytes: size };
}

/** A storage node as it registers: id, address, usage, disk. */
export function newStorageNode(overrides: Partial<{ nodeId: string; address: string; capacityBytes: number }> = {}) {
  return {
    nodeId: overrides.nodeId ?? uniqueName('node').replace(/_/g, '-'),
    address: overrides.address ?? `127.0.0.1:${randomInt(20_000, 30_000)}`,
    usage: { capacityBytes: overrides.capacityBytes ?? 1_000_000_000, usedBytes: 0, chunkCount: 0 },
    diskId: randomUUID(),
  };
}
