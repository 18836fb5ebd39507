import { createHash } from 'node:crypto';
import { createServiceTestStores, newUserInput, type ServiceTestStores } from '@cloudstore/testing';
import { AUTH_SCHEMA, createAuthDataSource } from '../database/auth-data-source';
import { SealSecretsAndRotateKeys1796180991179 } from '../database/migrations/1796180991179-SealSecretsAndRotateKeys';
import { RecoveryCodesRepository } from './recovery-codes.repository';

/** Recovery codes with a salt each, against the real database, and the codes users held before salts. */
describe(RecoveryCodesRepository.name, () => {
  let stores: ServiceTestStores;
  let sut: RecoveryCodesRepository;

  beforeAll(async () => {
    stores = await createServiceTestStores(createAuthDataSource, AUTH_SCHEMA);
    sut = new RecoveryCodesRepository(stores.dataSource);
  });

  afterAll(async () => {
    await stores.drop();
  });

  async function newUserId(): Promise<string> {
    const { username, email } = newUserInput();
    const [row] = await stores.dataSource.query<{ id: string }[]>(
      `INSERT INTO auth.users (username, username_key, email, email_key, password_hash) VALUES ($1, $1, $2, $2, 'x') RETURNING id`,
      [username, email],
    );
    if (!row) throw new Error('no user');
    return row.id;
  }

  it('accepts each code once, and a code of another user never', async () => {
    const [alice, bob] = [await newUserId(), await newUserId()];
    await sut.replace(alice, ['AAAABBBBCCCCDDDD', 'EEEEFFFFGGGGHHHH']);
    expect(await sut.use(bob, 'AAAABBBBCCCCDDDD')).toBe(false);
    expect(await sut.use(alice, 'AAAABBBBCCCCDDDD')).toBe(true);
    expect(await sut.use(alice, 'AAAABBBBCCCCDDDD')).toBe(false);
    expect(await sut.use(alice, 'ZZZZBBBBCCCCDDDD')).toBe(false);
    expect(await sut.use(alice, 'EEEEFFFFGGGGHHHH')).toBe(true);
  });

  it('salts the codes users held before salts existed, and those codes keep working, once', async () => {
    const migration = new SealSecretsAndRotateKeys1796180991179();
    const runner = stores.dataSource.createQueryRunner();
    try {
      await migration.down(runner);
      const userId = await newUserId();
      const legacy = ['JJJJKKKKLLLLMMMM', 'NNNNPPPPQQQQRRRR'];
      for (const code of legacy)
        await runner.query(`INSERT INTO auth.recovery_codes (user_id, code_hash) VALUES ($1, $2)`, [
          userId,
          createHash('sha256').update(code).digest('hex'),
        ]);
      await migration.up(runner);
      const rows: { salt: string; code_hash: string }[] = await runner.query(
        `SELECT salt, code_hash FROM auth.recovery_codes WHERE user_id = $1`,
        [userId],
      );
      expect(rows.map((r) => r.salt)).toEqual([expect.stringMatching(/^[0-9a-f]{32}$/), expect.stringMatching(/^[0-9a-f]{32}$/)]);
      expect(rows[0]?.salt).not.toBe(rows[1]?.salt);
      expect(rows.map((r) => r.code_hash)).not.toContain(
        createHash('sha256')
          .update(legacy[0] ?? '')
          .digest('hex'),
      );
      expect(await sut.use(userId, legacy[0] ?? '')).toBe(true);
      expect(await sut.use(userId, legacy[0] ?? '')).toBe(false);
      expect(await sut.use(userId, legacy[1] ?? '')).toBe(true);
    } finally {
      await runner.release();
    }
  });
});
