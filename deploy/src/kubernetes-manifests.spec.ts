import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allConfigVariables, APP_CONFIG_SCHEMAS, loadConfig } from '@cloudstore/config';
import { appOfCommand, REPO_ROOT, sourceOfScriptExists } from './manifests';
import { type K8sObject, renderAll, schemaModelOf } from './kustomize';

interface Probe {
  httpGet?: { path: string; port: number | string; scheme?: string };
  exec?: { command: string[] };
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string };
  };
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string; optional?: boolean } }[];
  ports?: { name: string; containerPort: number }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}

interface Volume {
  name: string;
  secret?: { secretName: string; optional?: boolean };
  csi?: { driver: string; volumeAttributes: Record<string, string> };
}

interface PodSpec {
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    runAsGroup?: number;
    fsGroup?: number;
    seccompProfile?: { type: string };
  };
  initContainers?: Container[];
  containers: Container[];
  volumes?: Volume[];
}

interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    volumeClaimTemplates?: { metadata: { name: string } }[];
  };
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values: string[] }[];
}

const NAME = 'app.kubernetes.io/name';
const KNOWN_VARIABLES = allConfigVariables();
/** What the pods set for themselves from the downward API, to build other variables from. */
const POD_VARIABLES = new Set(['POD_NAME', 'POD_NAMESPACE']);
/** Variables that hold a password or a key, alone or inside a URL: only ever from a Secret. */
const SECRET_VARIABLE = /PASSWORD|MASTER_KEY|DATABASE_URL|REDIS_URL|SMTP_URL|^ADMIN_/;

const rendered = renderAll();
afterAll(() => rendered.cleanup());

const ofKind = <T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string) =>
  objects.filter((o) => o.kind === kind) as T[];
const named = <T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string, name: string) =>
  ofKind<T>(objects, kind).find((o) => o.metadata.name === name);
const workloadsOf = (objects: K8sObject[]) => [
  ...ofKind<Workload>(objects, 'Deployment'),
  ...ofKind<Workload>(objects, 'StatefulSet'),
];
const isCloudstore = (container: Container) => container.image.startsWith('cloudstore:');
/** The workloads that run a cloudstore service, by service. */
function services(objects: K8sObject[]): Map<string, Workload> {
  return new Map(
    workloadsOf(objects).flatMap((w) => {
      const app = appOfCommand(w.spec.template.spec.containers[0]?.command);
      return app ? [[app, w] as const] : [];
    }),
  );
}
function service(objects: K8sObject[], app: string): { workload: Workload; pod: PodSpec; container: Container } {
  const workload = services(objects).get(app);
  if (!workload) throw new Error(`no workload runs ${app}`);
  const pod = workload.spec.template.spec;
  const [container] = pod.containers;
  if (!container) throw new Error(`${app} runs no container`);
  return { workload, pod, container };
}

function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(
    (e) => e.operator === 'In' && e.values.includes(labels[e.key] ?? ''),
  );
  return byLabels && byExpressions;
}

/** A pod's environment as its service would see it, Secrets standing in with well-formed values. */
function environmentOf(objects: K8sObject[], workload: Workload, container: Container): Record<string, string> {
  const stand_ins: Record<string, string> = {
    DATABASE_URL: 'postgres://cloudstore:secret@postgres:5432/cloudstore',
    REDIS_URL: 'redis://:secret@redis:6379/0',
    MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
    MASTER_KEY_PREVIOUS: Buffer.alloc(32, 8).toString('base64'),
    SMTP_URL: 'smtps://mailer:secret@smtp.example.com:465',
  };
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, named(objects, 'ConfigMap', source.configMapRef.name)?.data);
  }
  for (const variable of container.env ?? []) {
    const { fieldRef, secretKeyRef, configMapKeyRef } = variable.valueFrom ?? {};
    let value = variable.value ?? '';
    if (fieldRef?.fieldPath === 'metadata.name') value = `${workload.metadata.name}-0`;
    if (fieldRef?.fieldPath === 'metadata.namespace') value = workload.metadata.namespace ?? '';
    if (secretKeyRef) value = stand_ins[secretKeyRef.key] ?? 'secret';
    if (configMapKeyRef) value = named(objects, 'ConfigMap', configMapKeyRef.name)?.data?.[configMapKeyRef.key] ?? '';
    env[variable.name] = value.replace(/\$\(([A-Z_]+)\)/g, (_, name: string) => env[name] ?? '');
  }
  return env;
}

/** Why a service would refuse this environment at start, or undefined when it accepts it. */
function configRefusal(schema: Parameters<typeof loadConfig>[0], env: Record<string, string>): string | undefined {
  try {
    loadConfig(schema, env);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Who may open connections to pods with `labels`, by the NetworkPolicies: app names, `namespace …`, or `anyone`. */
function allowedSources(objects: K8sObject[], labels: Record<string, string>): string[] {
  const sources = new Set<string>();
  for (const policy of ofKind(objects, 'NetworkPolicy')) {
    const spec = policy.spec as {
      podSelector: LabelSelector;
      ingress?: { from?: { podSelector?: LabelSelector; namespaceSelector?: LabelSelector }[] }[];
    };
    if (!selects(spec.podSelector, labels)) continue;
    for (const rule of spec.ingress ?? []) {
      if (!rule.from) sources.add('anyone');
      for (const peer of rule.from ?? []) {
        if (peer.namespaceSelector)
          sources.add(`namespace ${peer.namespaceSelector.matchLabels?.['kubernetes.io/metadata.name']}`);
        else sources.add(peer.podSelector?.matchLabels?.[NAME] ?? 'every pod');
      }
    }
  }
  return [...sources].sort();
}

describe.each([
  ['k8s/base', rendered.base],
  ['k8s/overlays/dev', rendered.dev],
  ['k8s/overlays/prod', rendered.prod],
] as const)('%s, rendered by kustomize', (_dir, objects) => {
  const workloads = workloadsOf(objects);
  const pods = workloads.map((w) => [w.metadata.name, w.spec.template.spec] as const);
  const containersOf = (pod: PodSpec) => [...(pod.initContainers ?? []), ...pod.containers];

  it('is valid against the Kubernetes schemas (and cert-manager’s and the Prometheus operator’s)', () => {
    const invalid = objects.flatMap((object) => {
      try {
        new (schemaModelOf(object))(object).validate();
        return [];
      } catch (error) {
        return [`${object.kind}/${object.metadata.name}: ${(error as Error).message}`];
      }
    });
    expect(invalid).toEqual([]);
  });

  it('runs every pod as non-root with a read-only root, no privilege escalation, no capabilities and RuntimeDefault seccomp', () => {
    for (const [name, pod] of pods) {
      expect({ name, automount: pod.automountServiceAccountToken }).toEqual({ name, automount: false });
      expect({ name, ...pod.securityContext }).toMatchObject({
        name,
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      for (const container of containersOf(pod)) {
        expect({ name: `${name}/${container.name}`, ...container.securityContext }).toEqual({
          name: `${name}/${container.name}`,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
    expect(named(objects, 'Namespace', 'cloudstore')?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('gives every container CPU and memory requests and limits', () => {
    for (const [name, pod] of pods) {
      for (const container of containersOf(pod)) {
        const { requests = {}, limits = {} } = container.resources ?? {};
        expect({
          container: `${name}/${container.name}`,
          requests: Object.keys(requests).sort(),
          limits: Object.keys(limits).sort(),
        }).toEqual({
          container: `${name}/${container.name}`,
          requests: ['cpu', 'memory'],
          limits: ['cpu', 'memory'],
        });
      }
    }
  });

  it('pins every image to a release, never latest', () => {
    for (const [, pod] of pods) {
      for (const { image } of containersOf(pod)) {
        expect({ image, pinned: /^[\w./-]+:v?\d+\.\d+[\w.-]*$/.test(image) }).toEqual({ image, pinned: true });
      }
    }
    expect(service(objects, 'gateway').container.image).toMatch(/^cloudstore:\d+\.\d+\.\d+$/);
  });

  it('probes every container: liveness asks only whether the process lives, readiness covers its dependencies', () => {
    for (const [name, pod] of pods) {
      for (const container of pod.containers) {
        const where = `${name}/${container.name}`;
        expect({ where, readiness: !!container.readinessProbe, liveness: !!container.livenessProbe }).toEqual({
          where,
          readiness: true,
          liveness: true,
        });
        if (!isCloudstore(container)) continue;
        const portNames = new Set((container.ports ?? []).map((p) => p.name));
        const probes = {
          startup: container.startupProbe?.httpGet,
          readiness: container.readinessProbe?.httpGet,
          liveness: container.livenessProbe?.httpGet,
        };
        expect({ where, paths: [probes.startup?.path, probes.readiness?.path, probes.liveness?.path] }).toEqual({
          where,
          paths: ['/healthz', '/readyz', '/healthz'],
        });
        for (const probe of Object.values(probes)) expect(portNames.has(String(probe?.port))).toBe(true);
      }
    }
  });

  it('runs gateway, auth and metadata with two replicas or more (the gateway by its autoscaler), each workload under a disruption budget', () => {
    const autoscalers = ofKind<K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number } }>(
      objects,
      'HorizontalPodAutoscaler',
    );
    for (const app of ['gateway', 'auth', 'metadata']) {
      const { workload } = service(objects, app);
      const autoscaler = autoscalers.find((a) => a.spec.scaleTargetRef.name === workload.metadata.name);
      // A Deployment the autoscaler sizes leaves replicas out, so that an apply never resets it.
      const replicas = autoscaler ? autoscaler.spec.minReplicas : workload.spec.replicas;
      expect({ app, replicas: (replicas ?? 1) >= 2, both: !!autoscaler && workload.spec.replicas !== undefined }).toEqual({
        app,
        replicas: true,
        both: false,
      });
    }
    expect(autoscalers.map((a) => a.spec.scaleTargetRef.name)).toContain('gateway');
    const budgets = ofKind(objects, 'PodDisruptionBudget').map((b) => (b.spec as { selector: LabelSelector }).selector);
    for (const app of ['gateway', 'auth', 'metadata', 'storage-node']) {
      const { workload } = service(objects, app);
      expect({ app, budget: budgets.some((s) => selects(s, workload.spec.template.metadata.labels)) }).toEqual({
        app,
        budget: true,
      });
    }
  });

  it('holds no secret value: passwords, keys and URLs with credentials come from Secrets made outside the committed files', () => {
    for (const [name, pod] of pods) {
      for (const container of containersOf(pod)) {
        const plain = (container.env ?? []).filter((v) => SECRET_VARIABLE.test(v.name) && !v.valueFrom?.secretKeyRef);
        expect({ container: `${name}/${container.name}`, plain }).toEqual({ container: `${name}/${container.name}`, plain: [] });
      }
    }
    for (const configMap of ofKind(objects, 'ConfigMap')) {
      expect(Object.keys(configMap.data ?? {}).filter((key) => SECRET_VARIABLE.test(key))).toEqual([]);
    }
  });

  it('gives each cloudstore container a configuration its service accepts, with no variable it does not read', () => {
    for (const workload of workloads) {
      for (const container of containersOf(workload.spec.template.spec).filter(isCloudstore)) {
        const where = `${workload.metadata.name}/${container.name}`;
        const env = environmentOf(objects, workload, container);
        const unknown = Object.keys(env).filter((v) => !KNOWN_VARIABLES.has(v) && !POD_VARIABLES.has(v));
        expect({ where, unknown }).toEqual({ where, unknown: [] });
        const scripts = [...(container.command ?? []), ...(container.lifecycle?.preStop?.exec?.command ?? [])].filter((part) =>
          part.startsWith('dist/'),
        );
        expect({ where, missing: scripts.filter((s) => !sourceOfScriptExists(s)) }).toEqual({ where, missing: [] });
        const app = appOfCommand(container.command);
        expect({ where, refused: app && configRefusal(APP_CONFIG_SCHEMAS[app], env) }).toEqual({ where, refused: undefined });
      }
    }
  });

  it('brings each schema up to date in an init container, before the service starts', () => {
    for (const app of ['auth', 'metadata']) {
      const { pod } = service(objects, app);
      expect(pod.initContainers?.map((c) => c.command)).toEqual([['node', `dist/apps/${app}/src/migrate.js`]]);
      const databaseUrl = pod.initContainers?.[0]?.env?.find((v) => v.name === 'DATABASE_URL');
      expect(databaseUrl?.valueFrom?.secretKeyRef?.name).toMatch(/^cloudstore-database/);
    }
  });

  it('runs storage nodes as a StatefulSet: own volumes made writable by fsGroup, addresses from the pod’s name and namespace, a stop guard', () => {
    const { workload, pod, container } = service(objects, 'storage-node');
    expect(workload.kind).toBe('StatefulSet');
    expect(pod.securityContext?.fsGroup).toBe(pod.securityContext?.runAsGroup);
    expect(workload.spec.volumeClaimTemplates?.map((t) => t.metadata.name)).toEqual(['data']);
    const env = environmentOf(objects, workload, container);
    expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: env['DATA_DIR'] });
    const headless = named(objects, 'Service', workload.spec.serviceName ?? '');
    expect((headless?.spec as { clusterIP?: string }).clusterIP).toBe('None');
    const fromPod = Object.fromEntries(
      (container.env ?? []).filter((v) => v.valueFrom?.fieldRef).map((v) => [v.name, v.valueFrom?.fieldRef?.fieldPath]),
    );
    expect(fromPod).toEqual({ POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace' });
    const declared = Object.fromEntries((container.env ?? []).map((v) => [v.name, v.value]));
    expect(declared['STORAGE_NODE_ID']).toBe('$(POD_NAME)');
    expect(declared['STORAGE_NODE_ADDRESS']).toBe(`$(POD_NAME).${headless?.metadata.name}.$(POD_NAMESPACE).svc:50071`);
    // Nothing names the namespace: the manifests work in whichever one they are applied to.
    expect(JSON.stringify(workloads.map((w) => w.spec.template))).not.toMatch(/\.cloudstore\.svc/);
    const guard = container.lifecycle?.preStop?.exec?.command ?? [];
    expect(guard.slice(0, 2)).toEqual(['node', 'dist/apps/storage-node/src/stop-guard.js']);
    const maxWait = Number(guard[guard.indexOf('--max-wait-seconds') + 1]);
    expect(maxWait).toBeLessThan(pod.terminationGracePeriodSeconds ?? 30);
  });

  it('exposes only the gateway, keeping the client’s address (externalTrafficPolicy Local)', () => {
    const exposed = ofKind(objects, 'Service').filter((s) =>
      ['LoadBalancer', 'NodePort'].includes((s.spec as { type?: string }).type ?? ''),
    );
    expect(exposed.map((s) => s.metadata.name)).toEqual(['gateway']);
    expect((exposed[0]?.spec as { externalTrafficPolicy?: string }).externalTrafficPolicy).toBe('Local');
  });

  it('lets each service be reached only by those that call it', () => {
    const deny = ofKind(objects, 'NetworkPolicy').find((p) => {
      const spec = p.spec as { podSelector: LabelSelector; policyTypes: string[]; ingress?: unknown[] };
      return Object.keys(spec.podSelector).length === 0 && spec.policyTypes.includes('Ingress') && !spec.ingress;
    });
    expect(deny).toBeDefined();
    const reach = Object.fromEntries(
      workloads.map((w) => [w.metadata.name, allowedSources(objects, w.spec.template.metadata.labels)]),
    );
    const scraped = _dir.endsWith('prod') ? ['namespace monitoring'] : [];
    expect(reach).toMatchObject({
      gateway: ['anyone'],
      auth: ['gateway', 'metadata', ...scraped].sort(),
      metadata: ['gateway', ...scraped, 'storage-node'].sort(),
      'storage-node': ['gateway', 'metadata', ...scraped].sort(),
      postgres: ['auth', 'metadata'],
      redis: ['auth', 'gateway', 'metadata'],
    });
    expect(Object.keys(reach).filter((name) => reach[name]?.length === 0)).toEqual([]);
  });

  it('gives the gateway, auth and metadata one MASTER_KEY, from a Secret', () => {
    for (const app of ['gateway', 'auth', 'metadata']) {
      const masterKey = service(objects, app).container.env?.find((v) => v.name === 'MASTER_KEY');
      expect(masterKey?.valueFrom?.secretKeyRef?.name).toMatch(/^cloudstore-master-key/);
    }
  });

  it('selects pods by labels they carry, and every Service selects some', () => {
    for (const workload of workloads) expect(selects(workload.spec.selector, workload.spec.template.metadata.labels)).toBe(true);
    for (const svc of ofKind(objects, 'Service')) {
      const selector = (svc.spec as { selector: Record<string, string> }).selector;
      expect({
        svc: svc.metadata.name,
        selects: workloads.some((w) => selects({ matchLabels: selector }, w.spec.template.metadata.labels)),
      }).toEqual({
        svc: svc.metadata.name,
        selects: true,
      });
    }
  });
});

describe('k8s/base and k8s/overlays/prod', () => {
  it('commit no Secret: the operator creates each once (README), so no apply replaces one', () => {
    expect(ofKind(rendered.base, 'Secret')).toEqual([]);
    expect(ofKind(rendered.prod, 'Secret')).toEqual([]);
  });

  it('document in the README the kubectl command that creates each Secret prod needs', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const issued = new Set(ofKind(rendered.prod, 'Certificate').map((c) => (c.spec as { secretName: string }).secretName));
    const referenced = new Set(
      workloadsOf(rendered.prod).flatMap((w) => {
        const pod = w.spec.template.spec;
        return [
          ...[...(pod.initContainers ?? []), ...pod.containers].flatMap((c) => [
            ...(c.env ?? []).flatMap((v) => (v.valueFrom?.secretKeyRef ? [v.valueFrom.secretKeyRef.name] : [])),
            ...(c.envFrom ?? []).flatMap((s) => (s.secretRef ? [s.secretRef.name] : [])),
          ]),
          ...(pod.volumes ?? []).flatMap((v) => (v.secret && !v.secret.optional ? [v.secret.secretName] : [])),
        ];
      }),
    );
    const toCreate = [...referenced].filter((name) => !issued.has(name)).sort();
    expect(toCreate).toEqual([
      'cloudstore-admin',
      'cloudstore-database',
      'cloudstore-master-key',
      'cloudstore-redis',
      'cloudstore-smtp',
    ]);
    for (const name of toCreate) expect(readme).toContain(`create secret generic ${name}`);
  });
});

describe('k8s/overlays/prod', () => {
  const objects = rendered.prod;

  it('requires SMTP: auth gets SMTP_URL from a Secret that must exist, and will not start without it', () => {
    const { workload, container } = service(objects, 'auth');
    const env = Object.fromEntries((container.env ?? []).map((v) => [v.name, v]));
    expect(env['SMTP_REQUIRED']?.value).toBe('true');
    expect(env['SMTP_URL']?.valueFrom?.secretKeyRef).toEqual({ name: 'cloudstore-smtp', key: 'SMTP_URL', optional: false });
    const { SMTP_URL: _smtp, ...withoutSmtp } = environmentOf(objects, workload, container);
    expect(() => loadConfig(APP_CONFIG_SCHEMAS.auth, withoutSmtp)).toThrow(/SMTP_URL/);
  });

  it('issues each service its certificate from cert-manager’s CA Issuer, and each storage node its own by the CSI driver', () => {
    const issuer = named(objects, 'Issuer', 'cloudstore-internal');
    expect(issuer?.spec).toEqual({ ca: { secretName: 'cloudstore-internal-ca' } });
    const certificates = ofKind(objects, 'Certificate').map((c) => c.spec as Record<string, unknown>);
    for (const app of ['gateway', 'auth', 'metadata']) {
      const secretName = service(objects, app).pod.volumes?.find((v) => v.name === 'pki')?.secret?.secretName;
      expect(certificates.find((c) => c['secretName'] === secretName)).toMatchObject({
        uris: [`spiffe://cloudstore/${app}`],
        usages: ['server auth', 'client auth'],
        issuerRef: { name: 'cloudstore-internal', kind: 'Issuer' },
      });
    }
    const node = service(objects, 'storage-node');
    expect(node.pod.volumes?.find((v) => v.name === 'pki')?.csi).toMatchObject({
      driver: 'csi.cert-manager.io',
      volumeAttributes: {
        'csi.cert-manager.io/issuer-name': 'cloudstore-internal',
        'csi.cert-manager.io/uri-sans': 'spiffe://cloudstore/${POD_NAME}',
        'csi.cert-manager.io/fs-group': String(node.pod.securityContext?.fsGroup),
      },
    });
    const env = environmentOf(objects, node.workload, node.container);
    expect(env).toMatchObject({
      INTERNAL_CERT_FILE: '/pki/tls.crt',
      INTERNAL_KEY_FILE: '/pki/tls.key',
      INTERNAL_CA_FILE: '/pki/ca.crt',
    });
  });

  it('scrapes every service and alerts on a node down, chunks under-replicated for 10 minutes, a growing repair queue, full quotas and a broken audit chain', () => {
    const monitored = ofKind(objects, 'ServiceMonitor').flatMap((m) => {
      const spec = m.spec as { selector: LabelSelector; endpoints: { port: string }[] };
      return ofKind(objects, 'Service').filter(
        (s) =>
          selects(spec.selector, s.metadata.labels ?? {}) &&
          spec.endpoints.every((e) => (s.spec as { ports: { name: string }[] }).ports.some((p) => p.name === e.port)),
      );
    });
    expect(monitored.map((s) => s.metadata.name).sort()).toEqual(['auth', 'gateway', 'metadata', 'storage-node']);
    const rules = ofKind(objects, 'PrometheusRule').flatMap((r) =>
      (r.spec as { groups: { rules: { alert: string; expr: string; for: string }[] }[] }).groups.flatMap((g) => g.rules),
    );
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'CloudstoreStorageNodeDown',
        'CloudstoreUnderReplicatedChunks',
        'CloudstoreRepairQueueGrowing',
        'CloudstoreQuotaNearFull',
        'CloudstoreAuditChainBroken',
      ]),
    );
    expect(rules.find((r) => r.alert === 'CloudstoreUnderReplicatedChunks')?.for).toBe('10m');
    // Every metric an alert reads is one the services export.
    const metrics = new Set(rules.flatMap((r) => r.expr.match(/cloudstore_[a-z_]+/g) ?? []));
    const sources = execFileSync(
      'grep',
      ['-rhoE', "name: 'cloudstore_[a-z_]+'", join(REPO_ROOT, 'apps'), join(REPO_ROOT, 'libs')],
      {
        encoding: 'utf8',
      },
    );
    for (const metric of metrics)
      expect({ metric, exported: sources.includes(`'${metric}'`) }).toEqual({ metric, exported: true });
  });
});

describe('k8s/overlays/dev', () => {
  const objects = rendered.dev;

  it('makes every Secret a pod uses from the developer’s generated secrets/, each certificate naming its service', () => {
    const secrets = new Map(ofKind(objects, 'Secret').map((s) => [s.metadata.name, s]));
    for (const app of ['gateway', 'auth', 'metadata']) {
      const { pod } = service(objects, app);
      const secretName = pod.volumes?.find((v) => v.name === 'pki')?.secret?.secretName ?? '';
      const certificate = new X509Certificate(Buffer.from(secrets.get(secretName)?.data?.['tls.crt'] ?? '', 'base64'));
      expect(certificate.subjectAltName).toContain(`URI:spiffe://cloudstore/${app}`);
      const missing = [...(pod.initContainers ?? []), ...pod.containers]
        .flatMap((container) => container.env ?? [])
        .flatMap((v) => (v.valueFrom?.secretKeyRef && !v.valueFrom.secretKeyRef.optional ? [v.valueFrom.secretKeyRef] : []))
        .filter((ref) => !(ref.key in (secrets.get(ref.name)?.data ?? {})));
      expect(missing).toEqual([]);
    }
    const nodes = service(objects, 'storage-node');
    const nodeSecret = secrets.get(nodes.pod.volumes?.find((v) => v.name === 'pki')?.secret?.secretName ?? '');
    for (let i = 0; i < (nodes.workload.spec.replicas ?? 0); i += 1) {
      const certificate = new X509Certificate(Buffer.from(nodeSecret?.data?.[`storage-node-${i}.crt`] ?? '', 'base64'));
      expect(certificate.subjectAltName).toContain(`URI:spiffe://cloudstore/storage-node-${i}`);
    }
  });

  it('keeps what npm run k8s:dev-secrets made when it runs again (above all the master key)', () => {
    const masterKey = () => readFileSync(join(rendered.devSecretsDir, 'master-key.env'), 'utf8');
    const before = masterKey();
    execFileSync('node', [join(REPO_ROOT, 'dist/tools/local-cluster/src/k8s-dev-secrets.js'), rendered.devSecretsDir], {
      stdio: 'ignore',
    });
    expect(masterKey()).toBe(before);
    expect(before).toMatch(/^MASTER_KEY=[A-Za-z0-9+/]{43}=\n$/);
  });

  it('sends sign-in mail to Mailpit, which only auth may reach', () => {
    const mailpit = named<Workload>(objects, 'Deployment', 'mailpit');
    expect(allowedSources(objects, mailpit?.spec.template.metadata.labels ?? {})).toEqual(['auth']);
    const smtp = named(
      objects,
      'Secret',
      ofKind(objects, 'Secret').find((s) => s.metadata.name.startsWith('cloudstore-smtp'))?.metadata.name ?? '',
    );
    expect(Buffer.from(smtp?.data?.['SMTP_URL'] ?? '', 'base64').toString()).toBe('smtp://mailpit:1025');
  });
});
