import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allConfigVariables, APP_CONFIG_SCHEMAS, type AppName, loadConfig } from '@cloudstore/config';
import {
  appOfCommand,
  type K8sObject,
  loadCompose,
  loadK8s,
  loadKustomization,
  REPO_ROOT,
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

  it('runs gateway, auth, metadata and three storage nodes from the one image, beside postgres and redis', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['auth', 'certs', 'gateway', 'metadata', 'postgres', 'redis', 'storage-node-0', 'storage-node-1', 'storage-node-2'].sort(),
    );
    expect(new Set(appServices.map(([, s]) => s.image))).toEqual(new Set(['cloudstore:latest']));
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

  it('keeps the gateway master key: MASTER_KEY from the shell or .env, else generated on a volume', () => {
    const gateway = services['gateway'];
    expect(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')).toContain('MASTER_KEY: ${MASTER_KEY:-}');
    expect(gateway?.volumes).toEqual([
      `gateway-data:${gateway?.environment?.['DATA_DIR']}`,
      'pki:/pki:ro',
      './public-tls:/public-tls:ro',
    ]);
    expect('gateway-data' in volumes).toBe(true);
  });

  it('publishes the public ports and the stores for `npm start` on the host', () => {
    expect(services['gateway']?.ports).toEqual(expect.arrayContaining(['50051:50051', '8080:8080']));
    expect(services['postgres']?.ports).toEqual(['127.0.0.1:5432:5432']);
    expect(services['redis']?.ports).toEqual(['127.0.0.1:6379:6379']);
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

  it('gives every gateway replica one MASTER_KEY, from a Secret no manifest defines (so no apply replaces it)', () => {
    const gateway = appWorkloads.find((w) => appOfCommand(w.spec.template.spec.containers[0]?.command) === 'gateway');
    const masterKey = gateway?.spec.template.spec.containers[0]?.env?.find((v) => v.name === 'MASTER_KEY');
    expect(masterKey?.valueFrom?.secretKeyRef).toEqual({ name: 'cloudstore-master-key', key: 'MASTER_KEY' });
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

describe('deploy/Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'deploy/Dockerfile'), 'utf8');

  it('builds with the lock file, ships dist and proto, and runs as an unprivileged user', () => {
    expect(dockerfile).toMatch(/RUN npm ci/);
    expect(dockerfile).toMatch(/COPY .*\/app\/dist \.\/dist/);
    expect(dockerfile).toMatch(/COPY .*\/app\/proto \.\/proto/);
    expect(dockerfile).toMatch(/^USER node$/m);
    const cmd = /^CMD \[(.*)\]$/m.exec(dockerfile)?.[1] ?? '';
    expect(appOfCommand(JSON.parse(`[${cmd}]`))).toBe('gateway');
  });
});
