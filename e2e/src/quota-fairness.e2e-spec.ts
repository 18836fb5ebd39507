import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { basename } from 'node:path';
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { waitFor } from '@cloudstore/testing';
import { signUp, type TestUser } from './support/accounts';
import { chunkFilesOnDisk, grpcUpload } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const MiB = 1024 * 1024;
const FILE = 20 * MiB;
const QUOTA = 64 * MiB;

interface PutOutcome {
  status: number;
  body: Record<string, unknown>;
  /** Body bytes the client had written when the answer came. */
  sentWhenAnswered: number;
}

/**
 * PUT /v1/files with the body written piece by piece, as a streaming client would: with
 * `declare` it carries Content-Length, without it goes chunked (no size). With `holdAfter`
 * it stops after that many bytes until `release()`.
 */
function streamPut(
  baseUrl: string,
  token: string,
  filename: string,
  data: Buffer,
  options: { declare: boolean; holdAfter?: number },
): { done: Promise<PutOutcome>; release: () => void; abandon: () => void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const req = httpRequest(`${baseUrl}/v1/files?filename=${encodeURIComponent(filename)}`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/octet-stream',
      ...(options.declare ? { 'content-length': String(data.length) } : {}),
    },
  });
  let sent = 0;
  let answered = false;
  const done = new Promise<PutOutcome>((resolve, reject) => {
    req.on('response', (res) => {
      answered = true;
      const sentWhenAnswered = sent;
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as Record<string, unknown>,
          sentWhenAnswered,
        }),
      );
    });
    // The server closes the connection after refusing a body it did not read.
    req.on('error', (error) => (answered ? undefined : reject(error)));
  });
  void (async () => {
    const piece = 256 * 1024;
    for (let offset = 0; offset < data.length && !answered; offset += piece) {
      if (offset === options.holdAfter) await released;
      if (answered) return;
      const part = data.subarray(offset, Math.min(offset + piece, data.length));
      sent += part.length;
      if (!req.write(part)) await new Promise((resolve) => req.once('drain', resolve));
    }
    if (!answered) req.end();
  })().catch(() => undefined);
  return { done, release, abandon: () => req.destroy() };
}

describe('quotas exact and fair under concurrency: 4 × 20 MiB into 64 MiB, declared and undeclared', () => {
  const env = TestCluster.perFile({});

  async function userWithQuota(prefix: string, bytes = QUOTA): Promise<TestUser> {
    const user = await signUp(env.rest, env.smtp, prefix);
    await env.pg.query(
      `INSERT INTO metadata.user_quotas (user_id, role, quota_bytes) VALUES ($1, 'basic', $2)
       ON CONFLICT (user_id) DO UPDATE SET quota_bytes = EXCLUDED.quota_bytes`,
      [user.userId, bytes],
    );
    return user;
  }

  async function usedBytes(user: TestUser): Promise<unknown> {
    return (await env.rest.get('/v1/quota', user.token)).body['used_bytes'];
  }

  async function uploadStates(user: TestUser): Promise<string[]> {
    const rows = await env.pg.query<{ status: string }>(
      `SELECT status FROM metadata.uploads WHERE owner_id = $1 ORDER BY status`,
      [user.userId],
    );
    return rows.rows.map((r) => r.status);
  }

  /** Chunk files on any node that belong to no live file. */
  async function orphanChunks(): Promise<string[]> {
    const live = await env.pg.query<{ id: string }>('SELECT id FROM metadata.chunks WHERE file_id IS NOT NULL');
    const ids = new Set(live.rows.map((r) => r.id));
    return (await chunkFilesOnDisk(env.cluster.dataDir)).filter((path) => !ids.has(basename(path)));
  }

  /** No reservation, no open upload, no chunk outside a file: left once aborted uploads are collected. */
  async function settle(user: TestUser): Promise<void> {
    await waitFor(
      'no reservation, open upload or orphan chunk left',
      async () => {
        const held = await env.pg.query<{ reserved: string; open: string; loose: string }>(
          `SELECT q.reserved_bytes AS reserved,
                  (SELECT count(*) FROM metadata.uploads u WHERE u.owner_id = q.user_id AND u.status = 'open') AS open,
                  (SELECT count(*) FROM metadata.chunks c JOIN metadata.uploads u ON u.id = c.upload_id
                   WHERE u.owner_id = q.user_id AND c.file_id IS NULL) AS loose
           FROM metadata.user_quotas q WHERE q.user_id = $1`,
          [user.userId],
        );
        const row = held.rows[0];
        return row?.reserved === '0' && row.open === '0' && row.loose === '0' && (await orphanChunks()).length === 0;
      },
      60_000,
    );
  }

  const errorCode = (error: ServiceError) => error.metadata.get('error-code')[0];

  describe('sizes not declared (the seed UploadFile, chunked REST): an upload that fits alone is not refused because of others', () => {
    it('REST, chunked: exactly three land, the fourth gets 413 QUOTA_EXCEEDED, used = 60 MiB, nothing left over', async () => {
      const user = await userWithQuota('fair_rest');
      const outcomes = await Promise.all(
        [0, 1, 2, 3].map(
          (i) => streamPut(env.cluster.httpUrl, user.token, `f${i}.bin`, randomBytes(FILE), { declare: false }).done,
        ),
      );
      expect(outcomes.filter((o) => o.status === 201)).toHaveLength(3);
      const refused = outcomes.filter((o) => o.status !== 201);
      expect(refused.map((o) => [o.status, o.body['code']])).toEqual([[413, 'QUOTA_EXCEEDED']]);
      expect(await usedBytes(user)).toBe(3 * FILE);
      await settle(user);
      expect(await uploadStates(user)).toEqual(['aborted', 'committed', 'committed', 'committed']);
      expect(await usedBytes(user)).toBe(3 * FILE);
    });

    it('gRPC UploadFile: exactly three land, the fourth gets RESOURCE_EXHAUSTED QUOTA_EXCEEDED, used = 60 MiB, nothing left over', async () => {
      const user = await userWithQuota('fair_grpc');
      const outcomes = await Promise.all(
        [0, 1, 2, 3].map((i) =>
          grpcUpload(env.grpc, user.token, `g${i}.bin`, randomBytes(FILE)).done.then(
            () => 'ok',
            (error: ServiceError) => `${error.code}:${String(errorCode(error))}`,
          ),
        ),
      );
      expect(outcomes.sort()).toEqual([`${GrpcStatus.RESOURCE_EXHAUSTED}:QUOTA_EXCEEDED`, 'ok', 'ok', 'ok']);
      expect(await usedBytes(user)).toBe(3 * FILE);
      await settle(user);
      expect(await uploadStates(user)).toEqual(['aborted', 'committed', 'committed', 'committed']);
    });
  });

  describe('sizes declared: the whole size is reserved before any byte is stored', () => {
    it('REST Content-Length: the fourth is refused with 413 before its body is sent, and none of its bytes reach a node', async () => {
      const user = await userWithQuota('decl_rest');
      const before = new Set(await chunkFilesOnDisk(env.cluster.dataDir));
      const first = [0, 1, 2].map((i) =>
        streamPut(env.cluster.httpUrl, user.token, `d${i}.bin`, randomBytes(FILE), { declare: true, holdAfter: MiB }),
      );
      await waitFor(
        'three uploads holding 20 MiB each',
        async () =>
          (
            await env.pg.query(`SELECT 1 FROM metadata.uploads WHERE owner_id = $1 AND status = 'open' AND reserved_bytes = $2`, [
              user.userId,
              FILE,
            ])
          ).rowCount === 3,
        20_000,
      );
      const fourth = streamPut(env.cluster.httpUrl, user.token, 'd3.bin', randomBytes(FILE), { declare: true, holdAfter: MiB });
      const refused = await fourth.done;
      fourth.abandon();
      expect([refused.status, refused.body['code']]).toEqual([413, 'QUOTA_EXCEEDED']);
      expect(refused.sentWhenAnswered).toBeLessThanOrEqual(MiB);
      // Refused before an upload was even opened: no row, so no chunk of it anywhere.
      expect(await uploadStates(user)).toEqual(['open', 'open', 'open']);
      const added = (await chunkFilesOnDisk(env.cluster.dataDir)).filter((path) => !before.has(path));
      const ofTheThree = await env.pg.query<{ id: string }>(
        `SELECT c.id FROM metadata.chunks c JOIN metadata.uploads u ON u.id = c.upload_id WHERE u.owner_id = $1`,
        [user.userId],
      );
      const theirs = new Set(ofTheThree.rows.map((r) => r.id));
      expect(added.filter((path) => !theirs.has(basename(path)))).toEqual([]);

      for (const upload of first) upload.release();
      const landed = await Promise.all(first.map((u) => u.done));
      expect(landed.map((o) => o.status)).toEqual([201, 201, 201]);
      expect(await usedBytes(user)).toBe(3 * FILE);
      await settle(user);
      expect(await uploadStates(user)).toEqual(['committed', 'committed', 'committed']);
    });

    it('gRPC x-file-size, four at once: exactly three land; the fourth is refused at once and never opened', async () => {
      const user = await userWithQuota('decl_grpc');
      const declared = () => {
        const metadata = new Metadata();
        metadata.set('x-file-size', String(FILE));
        return metadata;
      };
      const outcomes = await Promise.all(
        [0, 1, 2, 3].map((i) =>
          grpcUpload(env.grpc, user.token, `x${i}.bin`, randomBytes(FILE), { metadata: declared() }).done.then(
            () => 'ok',
            (error: ServiceError) => `${error.code}:${String(errorCode(error))}`,
          ),
        ),
      );
      expect(outcomes.sort()).toEqual([`${GrpcStatus.RESOURCE_EXHAUSTED}:QUOTA_EXCEEDED`, 'ok', 'ok', 'ok']);
      expect(await usedBytes(user)).toBe(3 * FILE);
      await settle(user);
      expect(await uploadStates(user)).toEqual(['committed', 'committed', 'committed']);
    });

    it('gRPC x-file-size over the quota: RESOURCE_EXHAUSTED QUOTA_EXCEEDED while the client is still sending', async () => {
      const user = await userWithQuota('decl_over');
      const metadata = new Metadata();
      metadata.set('x-file-size', String(QUOTA + 1));
      const { done, call } = grpcUpload(env.grpc, user.token, 'too-big.bin', randomBytes(2 * MiB), { metadata, stopAfter: MiB });
      const error = await done.then(
        () => undefined,
        (e: ServiceError) => e,
      );
      call.cancel();
      expect([error?.code, error && errorCode(error)]).toEqual([GrpcStatus.RESOURCE_EXHAUSTED, 'QUOTA_EXCEEDED']);
      expect(await uploadStates(user)).toEqual([]);
    });

    it.each([
      ['longer', 5 * MiB, 9 * MiB],
      ['shorter', 9 * MiB, 5 * MiB],
    ])('gRPC x-file-size, a stream %s than declared: INVALID_ARGUMENT, nothing kept', async (_label, declaredSize, size) => {
      const user = await userWithQuota('decl_len');
      const metadata = new Metadata();
      metadata.set('x-file-size', String(declaredSize));
      const error = await grpcUpload(env.grpc, user.token, 'wrong-length.bin', randomBytes(size), { metadata }).done.then(
        () => undefined,
        (e: ServiceError) => e,
      );
      expect([error?.code, error && errorCode(error)]).toEqual([GrpcStatus.INVALID_ARGUMENT, 'INVALID_ARGUMENT']);
      await settle(user);
      expect(await uploadStates(user)).toEqual(['aborted']);
      expect(await usedBytes(user)).toBe(0);
      expect((await env.rest.get<{ total_count: number }>('/v1/files', user.token)).body.total_count).toBe(0);
    });

    it('gRPC x-file-size that is not a decimal byte count: INVALID_ARGUMENT', async () => {
      const user = await userWithQuota('decl_bad');
      const metadata = new Metadata();
      metadata.set('x-file-size', '12abc');
      const error = await grpcUpload(env.grpc, user.token, 'bad.bin', randomBytes(10), { metadata }).done.then(
        () => undefined,
        (e: ServiceError) => e,
      );
      expect(error?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(await uploadStates(user)).toEqual([]);
    });
  });
});
