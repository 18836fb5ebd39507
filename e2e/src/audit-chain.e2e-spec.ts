import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@cloudstore/testing';
import { signUp } from './support/accounts';
import { restUpload } from './support/file-transfers';
import { TestCluster } from './support/test-cluster';

const AUDIT_VERIFY_CLI = join(__dirname, '../../dist/apps/metadata/src/audit-verify.js');

/**
 * The audit chain through the real cluster: events of real operations (auth's over its queue,
 * metadata's in its transactions) are sealed within seconds, `npm run audit:verify` finds the
 * chain intact, and names the row a hand-made SQL edit changed.
 */
describe('audit chain', () => {
  const env = TestCluster.perFile({});

  async function auditVerify(): Promise<{ code: number; line: string }> {
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [AUDIT_VERIFY_CLI], { env: env.cluster.env });
      return { code: 0, line: stdout.trim() };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, line: `${failed.stdout}${failed.stderr}`.trim() };
    }
  }

  it('seals the events of registering, signing in and uploading; audit:verify passes, then names a row edited by SQL', async () => {
    const user = await signUp(env.rest, env.smtp, 'chain');
    await restUpload(env.cluster.httpUrl, user.token, 'chained.bin', randomBytes(10_000));
    const operations = ['auth.register', 'auth.login', 'file.upload'];
    const rows = await waitFor('the user’s audit events, all sealed', async () => {
      const { rows } = await env.pg.query<{ id: string; chain_seq: string | null; operation: string }>(
        'SELECT id::text, chain_seq::text, operation FROM metadata.audit_log WHERE user_id = $1 ORDER BY id',
        [user.userId],
      );
      const sealed = rows.every((r) => r.chain_seq !== null);
      return sealed && operations.every((op) => rows.some((r) => r.operation === op)) && rows;
    });
    expect(await auditVerify()).toMatchObject({
      code: 0,
      line: expect.stringMatching(/^audit:verify: audit chain intact: \d+ rows checked/),
    });

    const upload = rows.find((r) => r.operation === 'file.upload');
    await env.pg.query(`UPDATE metadata.audit_log SET filename = 'innocent.txt' WHERE id = $1`, [upload?.id]);
    expect(await auditVerify()).toMatchObject({
      code: 1,
      line: expect.stringContaining(`audit chain broken at chain_seq ${upload?.chain_seq}, row id ${upload?.id}: edited`),
    });
  });
});
