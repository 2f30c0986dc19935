// deploy/kubernetes: every file is valid YAML; the kustomization lists every manifest; each Muninn
// workload's flags and the shared config file (muninn.yaml, the ConfigMap) load with the real
// loader (unknown flags and YAML keys fail, as at start-up), and pass the shutdown budget check
// with no warning; terminationGracePeriodSeconds matches -shutdown.termination-grace-period and
// fits the sequence; readiness probes are on /ready and fail faster than the shutdown delay; each
// workload has a PodDisruptionBudget with maxUnavailable 1 and a Service; ingesters are a
// StatefulSet with the tokens file and the TSDB on their volume, unregister-on-shutdown=false and
// instance id = pod name; the rings' etcd endpoints name a Service of the manifests.
// The rules are those of docs/operations/rolling-updates.md.
import '../harness.js';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { checkShutdownBudget, type MuninnConfig, schema, SHUTDOWN_MARGIN_MS } from '../../src/app/config.js';
import { loadConfig } from '../../src/config/index.js';

/** The source tree's deploy/kubernetes (the test runs from dist/test/unit or another build folder). */
function deployDir(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(d, 'deploy', 'kubernetes');
    if (existsSync(join(d, 'package.json')) && existsSync(candidate)) return candidate;
    const up = dirname(d);
    if (up === d) throw new Error('deploy/kubernetes not found above the test file');
    d = up;
  }
}

const DIR = deployDir();

interface EnvVar { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }
interface Probe { httpGet?: { path: string; port: string | number }; periodSeconds?: number; failureThreshold?: number }
interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: Probe;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: { containers: Container[]; volumes?: Array<{ name: string; configMap?: { name: string } }>; terminationGracePeriodSeconds?: number };
}
interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any;
}
interface Kustomization {
  resources: string[];
  configMapGenerator?: Array<{ name: string; files: string[] }>;
}

const yamlFiles = readdirSync(DIR).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();

function parseFile(f: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(join(DIR, f), 'utf8'), { uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) assert.deepEqual(d.errors.map((e) => e.message), [], `${f}: YAML errors`);
  return list.map((d) => d.toJS() as unknown).filter((x) => x !== null);
}

const kustomization = parseFile('kustomization.yaml')[0] as Kustomization;
const configFiles = new Map((kustomization.configMapGenerator ?? []).flatMap((g) => g.files.map((f) => [f, g.name] as const)));
const manifests: Array<Doc & { file: string }> = kustomization.resources.flatMap((f) => parseFile(f).map((d) => ({ ...(d as Doc), file: f })));

const WORKLOADS = { distributor: 'Deployment', querier: 'Deployment', ingester: 'StatefulSet' } as const;
type Role = keyof typeof WORKLOADS;

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The workload's Muninn container, its flags with $(VAR) expanded from its env, and the config they load. */
function muninnOf(w: Doc): { pod: PodTemplate; c: Container; args: string[]; rawArgs: string[]; config: MuninnConfig; configMount: string } {
  const pod = w.spec.template as PodTemplate;
  const c = pod.spec.containers.find((x) => x.name === 'muninn');
  assert.ok(c !== undefined, `${w.kind}/${w.metadata.name}: a container named muninn`);
  const env = new Map((c.env ?? []).map((e) => [e.name, e]));
  const sample: Record<string, string> = { 'metadata.name': `${w.metadata.name}-0`, 'status.podIP': '10.1.2.3' };
  const rawArgs = c.args ?? [];
  const args = rawArgs.map((a) => a.replace(/\$\(([A-Z_][A-Z0-9_]*)\)/g, (_m, name: string) => {
    const e = env.get(name);
    assert.ok(e !== undefined, `${w.metadata.name}: $(${name}) in ${a} has no env entry`);
    if (e.value !== undefined) return e.value;
    const path = e.valueFrom?.fieldRef?.fieldPath ?? '';
    assert.ok(sample[path] !== undefined, `${w.metadata.name}: env ${name} from an unexpected source`);
    return sample[path]!;
  }));
  // -config.file must be the ConfigMap's file, mounted from the generated ConfigMap
  const cf = args.find((a) => a.startsWith('-config.file='))?.slice('-config.file='.length);
  assert.ok(cf !== undefined, `${w.metadata.name}: -config.file`);
  const mount = (c.volumeMounts ?? []).find((m) => cf.startsWith(`${m.mountPath}/`));
  assert.ok(mount !== undefined, `${w.metadata.name}: ${cf} is on a mounted volume`);
  const vol = (pod.spec.volumes ?? []).find((v) => v.name === mount.name);
  const fileName = posix.relative(mount.mountPath, cf);
  assert.equal(vol?.configMap?.name, configFiles.get(fileName), `${w.metadata.name}: ${cf} comes from the ConfigMap generated from ${fileName}`);
  // the real loader: unknown flags or YAML keys, bad values and failed validations throw
  const config = loadConfig(schema, args, (p) => {
    assert.equal(p, cf);
    return readFileSync(join(DIR, fileName), 'utf8');
  }).config;
  return { pod, c, args, rawArgs, config, configMount: mount.mountPath };
}

test('every file in deploy/kubernetes is valid YAML, and the kustomization lists every manifest', () => {
  assert.ok(yamlFiles.includes('kustomization.yaml'));
  for (const f of yamlFiles) parseFile(f);
  for (const f of [...kustomization.resources, ...configFiles.keys()]) assert.ok(existsSync(join(DIR, f)), `${f} listed in kustomization.yaml exists`);
  const listed = new Set(['kustomization.yaml', ...kustomization.resources, ...configFiles.keys()]);
  assert.deepEqual(yamlFiles.filter((f) => !listed.has(f)), [], 'YAML files kustomization.yaml does not use');
  for (const m of manifests) {
    assert.ok(typeof m.apiVersion === 'string' && typeof m.kind === 'string' && typeof m.metadata?.name === 'string', `${m.file}: apiVersion, kind and metadata.name`);
  }
});

test('the shared Muninn config file loads with the real loader and puts both rings in etcd', () => {
  for (const f of configFiles.keys()) {
    const { config } = loadConfig(schema, [`-config.file=${f}`], () => readFileSync(join(DIR, f), 'utf8'));
    for (const ring of [config.ingesterRing, config.distributorRing]) {
      assert.equal(ring.store, 'etcd');
      assert.ok(ring.etcdEndpoints.length > 0);
    }
  }
});

for (const role of Object.keys(WORKLOADS) as Role[]) {
  test(`${role}: flags, shutdown budget, probe, PDB and Service`, () => {
    const w = manifests.find((m) => m.kind === WORKLOADS[role] && m.spec?.template?.metadata?.labels?.['app.kubernetes.io/component'] === role);
    assert.ok(w !== undefined, `a ${WORKLOADS[role]} for the ${role}s`);
    const { pod, c, args, rawArgs, config, configMount } = muninnOf(w);
    const labels = pod.metadata.labels;
    assert.ok(selects(w.spec.selector?.matchLabels, labels), 'the workload selects its pods');
    assert.deepEqual(config.root.target, [role], '-target');

    // shutdown budget: Muninn's own check passes, without warnings, against the pod's real grace period
    const tgps = pod.spec.terminationGracePeriodSeconds;
    assert.ok(typeof tgps === 'number', 'terminationGracePeriodSeconds is set');
    assert.equal(config.root.terminationGracePeriod, tgps * 1000, '-shutdown.termination-grace-period equals terminationGracePeriodSeconds');
    assert.deepEqual(checkShutdownBudget(config), [], 'no shutdown budget warning');
    const { shutdownDelay } = config.root;
    assert.ok(shutdownDelay > 0, '-shutdown-delay is set');
    assert.ok(shutdownDelay + config.server.gracefulShutdownTimeout + SHUTDOWN_MARGIN_MS <= tgps * 1000, 'delay + drain + margin fits in the grace period');

    // readiness probe on /ready, on the HTTP port, noticing a shutdown within the delay
    const probe = c.readinessProbe;
    assert.equal(probe?.httpGet?.path, '/ready');
    const httpPort = (c.ports ?? []).find((p) => p.name === probe?.httpGet?.port || p.containerPort === probe?.httpGet?.port);
    assert.equal(httpPort?.containerPort, config.server.httpListenPort, 'the probe targets the HTTP listen port');
    assert.equal((c.ports ?? []).find((p) => p.name === 'grpc')?.containerPort, config.server.grpcListenPort, 'a grpc port on the gRPC listen port');
    if (role !== 'ingester') {
      const noticeMs = (probe?.periodSeconds ?? 10) * (probe?.failureThreshold ?? 3) * 1000;
      assert.ok(shutdownDelay > noticeMs, `-shutdown-delay (${shutdownDelay} ms) longer than the probe's period x failureThreshold (${noticeMs} ms)`);
    }

    // a PDB with maxUnavailable 1 and a Service
    const pdbs = manifests.filter((m) => m.kind === 'PodDisruptionBudget' && selects(m.spec?.selector?.matchLabels, labels));
    assert.equal(pdbs.length, 1, 'one PodDisruptionBudget');
    assert.equal(pdbs[0]!.spec.maxUnavailable, 1);
    assert.equal(pdbs[0]!.apiVersion, 'policy/v1');
    const services = manifests.filter((m) => m.kind === 'Service' && selects(m.spec?.selector, labels));
    assert.equal(services.length, 1, 'one Service');
    const svc = services[0]!;
    for (const p of svc.spec.ports as Array<{ name: string; targetPort: string | number }>) {
      assert.ok((c.ports ?? []).some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort), `Service port ${p.name} targets a container port`);
    }

    // the rings' etcd endpoints name the etcd client Service of these manifests
    const rings = role === 'distributor' ? [config.ingesterRing, config.distributorRing] : [config.ingesterRing];
    for (const ring of rings) {
      assert.equal(ring.store, 'etcd');
      for (const ep of ring.etcdEndpoints) {
        const u = new URL(ep);
        const etcdSvc = manifests.find((m) => m.kind === 'Service' && m.metadata.name === u.hostname);
        assert.ok(etcdSvc !== undefined, `${ep}: a Service named ${u.hostname}`);
        assert.ok((etcdSvc.spec.ports as Array<{ port: number }>).some((p) => p.port === Number(u.port)), `${ep}: the Service has port ${u.port}`);
        assert.ok(manifests.some((m) => m.kind === 'StatefulSet' && selects(etcdSvc.spec.selector, m.spec.template.metadata.labels)), `${ep}: the Service selects the etcd pods`);
      }
    }

    const podNameVar = (c.env ?? []).find((e) => e.valueFrom?.fieldRef?.fieldPath === 'metadata.name')?.name;
    if (role === 'distributor') {
      assert.ok(rawArgs.includes(`-distributor.ring.instance-id=$(${podNameVar})`), 'distributor instance id = pod name');
    }
    if (role === 'ingester') {
      assert.equal(w.spec.serviceName, svc.metadata.name, 'the StatefulSet\'s serviceName is its Service');
      assert.equal(svc.spec.clusterIP, 'None', 'the ingesters\' Service is headless');
      assert.ok((svc.spec.ports as Array<{ name: string }>).some((p) => p.name === 'grpc'), 'the headless Service exposes gRPC');
      assert.ok(rawArgs.includes(`-ingester.ring.instance-id=$(${podNameVar})`), 'ingester instance id = pod name');
      assert.equal(config.ingesterRing.unregisterOnShutdown, false, '-ingester.ring.unregister-on-shutdown=false');
      // the tokens file and the TSDB on the pod's persistent volume
      const claims = (w.spec.volumeClaimTemplates ?? []) as Array<{ metadata: { name: string } }>;
      const onClaim = (path: string): boolean => (c.volumeMounts ?? []).some((m) => claims.some((cl) => cl.metadata.name === m.name) && path.startsWith(`${m.mountPath}/`));
      assert.ok(config.ingesterRing.tokensFilePath !== '' && onClaim(config.ingesterRing.tokensFilePath), `tokens file ${config.ingesterRing.tokensFilePath} on a persistent volume`);
      assert.ok(onClaim(config.tsdb.dir), `TSDB dir ${config.tsdb.dir} on a persistent volume`);
      assert.ok(!config.tsdb.dir.startsWith(`${configMount}/`));
      // one at a time
      assert.equal(w.spec.updateStrategy?.type, 'RollingUpdate');
      assert.ok([undefined, 1].includes(w.spec.updateStrategy?.rollingUpdate?.maxUnavailable), 'StatefulSet maxUnavailable 1 (or the default, one at a time)');
      assert.ok(args.includes('-target=ingester'));
    }
  });
}
