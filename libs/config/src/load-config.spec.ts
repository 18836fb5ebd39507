import {
  authConfigSchema,
  ConfigError,
  gatewayConfigSchema,
  loadConfig,
  localClusterConfigSchema,
  metadataConfigSchema,
  storageNodeConfigSchema,
} from './index';

describe(loadConfig.name, () => {
  it('applies the contract defaults when nothing is set', () => {
    const sut = loadConfig(gatewayConfigSchema, {});
    expect(sut).toMatchObject({
      GRPC_PORT: 50051,
      HTTP_PORT: 8080,
      AUTH_ADDRESS: '127.0.0.1:50061',
      METADATA_ADDRESS: '127.0.0.1:50062',
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      CHUNK_SIZE_BYTES: 4194304,
      LOG_LEVEL: 'info',
    });
    expect(loadConfig(metadataConfigSchema, {}).DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/cloudstore');
    expect(loadConfig(localClusterConfigSchema, {})).toMatchObject({
      STORAGE_NODES: 3,
      STORAGE_NODE_BASE_PORT: 50071,
      DATA_DIR: './data',
    });
    expect(loadConfig(authConfigSchema, {}).AUTH_PORT).toBe(50061);
  });

  it('reads and converts set variables', () => {
    const sut = loadConfig(gatewayConfigSchema, { GRPC_PORT: '6000', AUTH_ADDRESS: 'auth:7000', LOG_LEVEL: 'debug' });
    expect(sut.GRPC_PORT).toBe(6000);
    expect(sut.AUTH_ADDRESS).toBe('auth:7000');
    expect(sut.LOG_LEVEL).toBe('debug');
  });

  it('takes MASTER_KEY as base64 of 32 bytes, and never repeats a refused one', () => {
    const key = Buffer.alloc(32, 7);
    expect(loadConfig(gatewayConfigSchema, { MASTER_KEY: key.toString('base64') }).MASTER_KEY?.equals(key)).toBe(true);
    expect(loadConfig(gatewayConfigSchema, {}).MASTER_KEY).toBeNull();
    const hex = key.toString('hex');
    expect(() => loadConfig(gatewayConfigSchema, { MASTER_KEY: hex })).toThrow(
      'MASTER_KEY must be base64 of exactly 32 bytes, got 64 characters (not shown: it is a secret)',
    );
    expect(() => loadConfig(gatewayConfigSchema, { MASTER_KEY: hex })).not.toThrow(hex);
  });

  it('takes MASTER_KEY_PREVIOUS beside MASTER_KEY in the services that hold master keys, never the same key', () => {
    const [current, previous] = [Buffer.alloc(32, 7), Buffer.alloc(32, 8)];
    for (const schema of [gatewayConfigSchema, authConfigSchema, metadataConfigSchema]) {
      const both = { MASTER_KEY: current.toString('base64'), MASTER_KEY_PREVIOUS: previous.toString('base64') };
      expect(loadConfig(schema, both).MASTER_KEY_PREVIOUS?.equals(previous)).toBe(true);
      expect(loadConfig(schema, {}).MASTER_KEY_PREVIOUS).toBeNull();
      expect(() => loadConfig(schema, { ...both, MASTER_KEY_PREVIOUS: both.MASTER_KEY })).toThrow(
        'MASTER_KEY_PREVIOUS is the same key as MASTER_KEY',
      );
    }
  });

  it('takes TRUSTED_PROXIES as a list of CIDRs, empty when unset', () => {
    expect(loadConfig(gatewayConfigSchema, {}).TRUSTED_PROXIES).toEqual([]);
    expect(loadConfig(gatewayConfigSchema, { TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7,::1/128' }).TRUSTED_PROXIES).toEqual([
      { family: 'ipv4', address: '10.0.0.0', prefix: 8 },
      { family: 'ipv4', address: '192.168.1.7', prefix: 32 },
      { family: 'ipv6', address: '::1', prefix: 128 },
    ]);
  });

  it('derives a storage node address from its port', () => {
    const sut = loadConfig(storageNodeConfigSchema, { STORAGE_NODE_ID: 'node-7', STORAGE_NODE_PORT: '50078' });
    expect(sut.STORAGE_NODE_ADDRESS).toBe('127.0.0.1:50078');
  });

  it.each([
    ['GRPC_PORT', 'abc', 'GRPC_PORT must be a port number from 1 to 65535, got "abc"'],
    ['GRPC_PORT', '70000', 'GRPC_PORT must be a port number from 1 to 65535, got "70000"'],
    ['HTTP_PORT', '80.5', 'HTTP_PORT must be a port number from 1 to 65535, got "80.5"'],
    ['REDIS_URL', 'localhost:6379', 'REDIS_URL must be a URL starting with redis:// or rediss://, got "localhost:6379"'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    ['CHUNK_SIZE_BYTES', '10', 'CHUNK_SIZE_BYTES must be an integer from 65536 to 67108864, got "10"'],
    ['AUTH_ADDRESS', 'no-port', 'AUTH_ADDRESS must be an address of the form host:port, got "no-port"'],
    [
      'TRUSTED_PROXIES',
      '10.0.0.0/33',
      'TRUSTED_PROXIES must be a comma separated list of CIDRs such as 10.0.0.0/8,::1/128, got "10.0.0.0/33"',
    ],
    [
      'TRUSTED_PROXIES',
      '127.0.0.1/32,proxy.local',
      'TRUSTED_PROXIES must be a comma separated list of CIDRs such as 10.0.0.0/8,::1/128, got "127.0.0.1/32,proxy.local"',
    ],
  ])('rejects %s=%s with one line naming the variable', (variable, value, message) => {
    const load = () => loadConfig(gatewayConfigSchema, { [variable]: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(new ConfigError(`invalid configuration: ${message}`));
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig(metadataConfigSchema, { METADATA_PORT: 'x', DATABASE_URL: 'mysql://db/x' })).toThrow(
      /METADATA_PORT must be .*; DATABASE_URL must be a URL starting with postgres:\/\/ or postgresql:\/\//,
    );
  });

  it('takes WRITE_QUORUM up to the replication factor, a majority when unset', () => {
    expect(loadConfig(metadataConfigSchema, {}).WRITE_QUORUM).toBeUndefined();
    expect(loadConfig(metadataConfigSchema, { WRITE_QUORUM: '3' }).WRITE_QUORUM).toBe(3);
    expect(() => loadConfig(metadataConfigSchema, { WRITE_QUORUM: '4' })).toThrow(
      /^invalid configuration: WRITE_QUORUM must not be more than REPLICATION_FACTOR$/,
    );
  });

  it('rejects a storage node id that could escape its data folder', () => {
    expect(() => loadConfig(storageNodeConfigSchema, { STORAGE_NODE_ID: '../x' })).toThrow(/STORAGE_NODE_ID must be/);
  });

  it('never repeats the password of a refused REDIS_URL', () => {
    const load = () => loadConfig(gatewayConfigSchema, { REDIS_URL: 'http://app:hunter2@cache:6379/0' });
    expect(load).toThrow('REDIS_URL must be a URL starting with redis:// or rediss://, got "http://app:***@cache:6379/0"');
    expect(load).not.toThrow(/hunter2/);
    expect(() => loadConfig(gatewayConfigSchema, { REDIS_URL: 'redis//app:hunter2@cache' })).toThrow(/got "<not a URL>"$/);
  });

  it('takes REDIS_CA_FILE only as a readable file and only with rediss://', () => {
    const caFile = __filename;
    expect(loadConfig(authConfigSchema, { REDIS_URL: 'rediss://:pw@cache:6380/0', REDIS_CA_FILE: caFile }).REDIS_CA_FILE).toBe(
      caFile,
    );
    expect(() => loadConfig(metadataConfigSchema, { REDIS_CA_FILE: caFile })).toThrow(
      /^invalid configuration: REDIS_CA_FILE is set, but REDIS_URL is not rediss:\/\/ \(TLS\)$/,
    );
    expect(() => loadConfig(gatewayConfigSchema, { REDIS_URL: 'rediss://cache/0', REDIS_CA_FILE: '/no/such/ca.pem' })).toThrow(
      'REDIS_CA_FILE must be a readable file, got "/no/such/ca.pem" (ENOENT)',
    );
  });

  it('refuses SMTP_REQUIRED without SMTP_URL, in one line', () => {
    expect(loadConfig(authConfigSchema, {}).SMTP_REQUIRED).toBe(false);
    expect(loadConfig(authConfigSchema, { SMTP_REQUIRED: 'true', SMTP_URL: 'smtp://mail:25' }).SMTP_REQUIRED).toBe(true);
    for (const on of ['true', '1']) {
      expect(() => loadConfig(authConfigSchema, { SMTP_REQUIRED: on })).toThrow(
        new ConfigError(
          'invalid configuration: SMTP_REQUIRED is on but SMTP_URL is not set: sign-in codes would be written to a local outbox nobody reads',
        ),
      );
    }
    expect(() => loadConfig(authConfigSchema, { SMTP_REQUIRED: 'yes' })).toThrow(
      'invalid configuration: SMTP_REQUIRED must be true or false, got "yes"',
    );
  });

  it('takes PUBLIC_TLS_CERT_FILE and PUBLIC_TLS_KEY_FILE together or not at all', () => {
    const file = __filename;
    expect(loadConfig(gatewayConfigSchema, { PUBLIC_TLS_CERT_FILE: file, PUBLIC_TLS_KEY_FILE: file })).toMatchObject({
      PUBLIC_TLS_CERT_FILE: file,
      PUBLIC_TLS_KEY_FILE: file,
    });
    for (const env of [{ PUBLIC_TLS_CERT_FILE: file }, { PUBLIC_TLS_KEY_FILE: file }]) {
      expect(() => loadConfig(gatewayConfigSchema, env)).toThrow(
        /^invalid configuration: PUBLIC_TLS_CERT_FILE and PUBLIC_TLS_KEY_FILE must be set together \(or neither\)$/,
      );
      expect(() => loadConfig(localClusterConfigSchema, env)).toThrow(/must be set together/);
    }
    expect(() => loadConfig(gatewayConfigSchema, { PUBLIC_TLS_CERT_FILE: file, PUBLIC_TLS_KEY_FILE: '/tmp' })).toThrow(
      'PUBLIC_TLS_KEY_FILE must be a readable file, got "/tmp" (not a file)',
    );
  });

  it.each(['gateway', 'auth', 'metadata'])('rejects a storage node named %s: its certificate would name that service', (id) => {
    expect(() => loadConfig(storageNodeConfigSchema, { STORAGE_NODE_ID: id })).toThrow(/STORAGE_NODE_ID must not be gateway/);
  });
});
