import { randomBytes } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { waitFor } from '@cloudstore/testing';
import { signUp, type TestUser } from './support/accounts';
import { grpcUpload, sha256 } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const IDLE_SECONDS = 2;
const PIECE = 64 * 1024;

/** A body that sends `pieces` pieces, `gapMs` apart, then (with `stallAfter`) nothing more. */
function trickle(data: Buffer, gapMs: number, stallAfter = Number.POSITIVE_INFINITY): ReadableStream<Uint8Array> {
  let offset = 0;
  let sent = 0;
  return new ReadableStream({
    async pull(controller) {
      if (sent >= stallAfter) return new Promise<void>(() => undefined);
      if (offset >= data.length) return controller.close();
      if (sent > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
      controller.enqueue(new Uint8Array(data.subarray(offset, offset + PIECE)));
      offset += PIECE;
      sent += 1;
    },
  });
}

describe('transfers end on a stall, not on a clock (TRANSFER_IDLE_TIMEOUT_SECONDS)', () => {
  const env = TestCluster.perFile({ TRANSFER_IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS), UPLOAD_IDLE_TIMEOUT_SECONDS: '5' });
  let user: TestUser;

  beforeAll(async () => {
    user = await signUp(env.rest, env.smtp, 'idle');
  });

  function upload(name: string, body: ReadableStream<Uint8Array>): Promise<Response> {
    return fetch(`${env.cluster.httpUrl}/v1/files?filename=${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${user.token}` },
      body,
      duplex: 'half',
    });
  }

  async function nothingLeftOf(name: string): Promise<void> {
    await waitFor(
      `nothing left of ${name}`,
      async () => {
        const rows = await env.pg.query<{ reserved: string; open: string; files: string }>(
          `SELECT q.reserved_bytes AS reserved,
                  (SELECT count(*) FROM metadata.uploads WHERE owner_id = q.user_id AND status = 'open') AS open,
                  (SELECT count(*) FROM metadata.files WHERE owner_id = q.user_id AND filename = $2) AS files
           FROM metadata.user_quotas q WHERE q.user_id = $1`,
          [user.userId, name],
        );
        const row = rows.rows[0];
        return row?.reserved === '0' && row.open === '0' && row.files === '0';
      },
      30_000,
    );
  }

  it('lets a REST upload that keeps sending run well past the idle time', async () => {
    const data = randomBytes(12 * PIECE);
    // 12 pieces, 400 ms apart: about 4.4 s in all, never 2 s without a byte.
    const res = await upload('slow-but-steady.bin', trickle(data, 400));
    const body = (await res.json()) as { file_id: string };
    expect(res.status).toBe(201);
    const back = await fetch(`${env.cluster.httpUrl}/v1/files/${body.file_id}/content`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(sha256(Buffer.from(await back.arrayBuffer()))).toBe(sha256(data));
  });

  it('closes a REST upload that stops sending, and keeps nothing of it', async () => {
    const failure = await upload('stalled.bin', trickle(randomBytes(12 * PIECE), 10, 3)).then(
      (res) => `answered ${res.status}`,
      (error: Error) => error.name,
    );
    expect(failure).toBe('TypeError');
    await nothingLeftOf('stalled.bin');
  });

  it('lets a gRPC upload that keeps sending run past the idle time, and drops one that stops', async () => {
    const data = randomBytes(12 * PIECE);
    const steady = grpcUpload(env.grpc, user.token, 'grpc-steady.bin', data, { pieceSize: PIECE, gapMs: 400 });
    expect((await steady.done).fileSize).toBe(data.length);

    const stalled = grpcUpload(env.grpc, user.token, 'grpc-stalled.bin', data, { pieceSize: PIECE, stopAfter: 3 * PIECE });
    await expect(stalled.done).rejects.toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
    stalled.call.end();
    await nothingLeftOf('grpc-stalled.bin');
  });
});
