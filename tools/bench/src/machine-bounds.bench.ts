import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What this machine allows, measured in the same run as the cluster so every figure can be read
 * as a share of it: the disk under the factor-3 write pattern, a cold read, and the rate of the
 * two ciphers the data path runs on one core.
 */
export interface MachineBounds {
  /** Three writers at once, each writing 4 MiB blocks with an fdatasync after each (as three nodes store chunks). */
  disk_write_3x: { mib_each: number; mib_per_s_total: number; mib_per_s_per_writer: number };
  /** One of those files read back after the page cache was dropped (`cold`: false where that was not allowed). */
  disk_read: { mib: number; mib_per_s: number; cold: boolean };
  sha256_mib_per_s_one_core: number;
  aes_256_gcm_mib_per_s_one_core: number;
}

const MiB = 1024 * 1024;
const BLOCK = 4 * MiB;
/** The data path feeds both ciphers 64 KiB at a time. */
const PIECE = 64 * 1024;

/** MiB per second of `work` over a 4 MiB buffer, repeated for at least `minMs` of CPU time. */
function cpuRate(work: (block: Buffer) => void, minMs = 400): number {
  const block = randomBytes(BLOCK);
  work(block);
  const started = process.cpuUsage();
  let rounds = 0;
  let usedMs = 0;
  while (usedMs < minMs) {
    work(block);
    rounds += 1;
    const used = process.cpuUsage(started);
    usedMs = (used.user + used.system) / 1000;
  }
  return Math.round(((rounds * BLOCK) / MiB / (usedMs / 1000)) * 10) / 10;
}

function sha256(block: Buffer): void {
  const hash = createHash('sha256');
  for (let offset = 0; offset < block.length; offset += PIECE) hash.update(block.subarray(offset, offset + PIECE));
  hash.digest();
}

const key = randomBytes(32);
function aesGcm(block: Buffer): void {
  const cipher = createCipheriv('aes-256-gcm', key, randomBytes(12));
  for (let offset = 0; offset < block.length; offset += PIECE) cipher.update(block.subarray(offset, offset + PIECE));
  cipher.final();
}

async function writeSynced(path: string, mib: number): Promise<void> {
  const block = randomBytes(BLOCK);
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < mib * MiB; written += BLOCK) {
      await file.write(block, 0, BLOCK);
      await file.datasync();
    }
  } finally {
    await file.close();
  }
}

/** Drops the page cache, so the next read comes from the disk; false where that is not allowed. */
async function dropPageCache(): Promise<boolean> {
  return writeFile('/proc/sys/vm/drop_caches', '1').then(
    () => true,
    () => false,
  );
}

async function readAll(path: string): Promise<number> {
  const file = await open(path, 'r');
  const buffer = Buffer.allocUnsafe(BLOCK);
  let total = 0;
  try {
    for (let read = -1; read !== 0; total += read) read = (await file.read(buffer, 0, BLOCK)).bytesRead;
  } finally {
    await file.close();
  }
  return total;
}

/** Measures the bounds with files of `mibEach` MiB in `dir` (on the disk the nodes use), removed after. */
export async function measureMachineBounds(dir: string, mibEach: number): Promise<MachineBounds> {
  const mib = Math.max(BLOCK / MiB, Math.round(mibEach / (BLOCK / MiB)) * (BLOCK / MiB));
  const paths = [0, 1, 2].map((i) => join(dir, `bench-bound-${i}.bin`));
  try {
    const writeStarted = performance.now();
    await Promise.all(paths.map((path) => writeSynced(path, mib)));
    const writeSeconds = (performance.now() - writeStarted) / 1000;
    const cold = await dropPageCache();
    const readStarted = performance.now();
    const readBytes = await readAll(paths[0]);
    const readSeconds = (performance.now() - readStarted) / 1000;
    const total = (3 * mib) / writeSeconds;
    return {
      disk_write_3x: {
        mib_each: mib,
        mib_per_s_total: Math.round(total * 10) / 10,
        mib_per_s_per_writer: Math.round((total / 3) * 10) / 10,
      },
      disk_read: { mib, mib_per_s: Math.round((readBytes / MiB / readSeconds) * 10) / 10, cold },
      sha256_mib_per_s_one_core: cpuRate(sha256),
      aes_256_gcm_mib_per_s_one_core: cpuRate(aesGcm),
    };
  } finally {
    await Promise.all(paths.map((path) => rm(path, { force: true })));
  }
}
