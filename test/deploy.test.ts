// Every kustomize variant renders, every object validates offline against the Kubernetes (and the
// Prometheus operator's CRD) schemas, and the pieces fit together: the DaemonSet is locked down,
// gets its identity from the downward API, and mounts the ConfigMap, Secret and data directory;
// the monitoring components carry what their stack selects on; the etcd component runs the etcd
// probe on control-plane nodes only, with kubeadm's certificates mounted where its config looks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { parseAllDocuments, parse, stringify } from 'yaml';
import type { V1ConfigMap, V1DaemonSet, V1Secret, V1Service } from '@kubernetes/client-node';
import { loadConfig } from '../src/config/load.ts';
import { DEFAULT_TOKEN_FILE } from '../src/peers/auth.ts';
import { builtinProbes } from '../src/probes/index.ts';
import { schemaErrors, unknownFields } from './support/k8s-schema.ts';

const root = path.resolve(import.meta.dirname, '..');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}

/** Renders a kustomization directory with kubectl, as an operator would. */
function render(dir: string, cwd = root): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run kubectl: ${r.error.message}`, { cause: r.error });
  assert.equal(r.status, 0, r.stderr);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject);
}

const findIn = <T>(objects: K8sObject[], kind: string, name?: string): T => {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name || (/^-[a-z0-9]{10}$/.test(x.metadata.name.slice(name.length)) && x.metadata.name.startsWith(name))));
  assert.ok(o, `no ${kind}${name ? ` ${name}` : ''} in the rendered manifests`);
  return o as unknown as T;
};

const VERSION = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
/**
 * An operator's own overlay adding the opt-in node-conditions component to the base, written to a
 * temporary directory (kustomize takes only relative paths to the bases it builds on).
 */
function nodeConditionsOverlay(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-overlay-'));
  const rel = (p: string) => path.relative(dir, path.join(root, p));
  writeFileSync(path.join(dir, 'kustomization.yaml'), stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [rel('deploy/base')], components: [rel('deploy/components/node-conditions')] }));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
const NODE_CONDITIONS = nodeConditionsOverlay();
const VARIANTS = ['deploy/base', 'deploy/overlays/kube-prometheus-stack', 'deploy/overlays/prometheus', 'deploy/overlays/kubeadm-etcd', NODE_CONDITIONS];

void describe('every variant', () => {
  for (const variant of VARIANTS) {
    void it(`${variant}: renders, validates against the schemas with no unknown fields, and runs vigil:${VERSION}`, async () => {
      const objects = render(variant);
      for (const o of objects) {
        const where = `${variant}: ${o.kind} ${o.metadata.name}`;
        assert.deepEqual(await schemaErrors(o), [], `${where}: schema errors`);
        if (o.apiVersion !== 'monitoring.coreos.com/v1') assert.deepEqual(unknownFields(o), [], `${where}: unknown fields`);
        if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) continue;
        const want = o.kind.startsWith('Role') && o.metadata.name === 'vigil-control-plane-leases' ? 'kube-system' : o.kind.startsWith('Role') && o.metadata.name === 'vigil-node-events' ? 'default' : 'vigil';
        assert.equal(o.metadata.namespace, want, where);
        assert.equal(o.metadata.labels?.['app.kubernetes.io/part-of'], 'vigil', `${where}: part-of label`);
      }
      for (const ds of objects.filter((o) => o.kind === 'DaemonSet') as unknown as V1DaemonSet[]) {
        const pod = ds.spec!.template.spec!;
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) assert.equal(c.image, `vigil:${VERSION}`, `${ds.metadata!.name}/${c.name}: the image npm run image builds`);
      }
      // Without the operator's CRDs, only the kube-prometheus-stack variants may need them.
      const crds = objects
        .filter((o) => o.apiVersion === 'monitoring.coreos.com/v1')
        .map((o) => o.kind)
        .sort();
      assert.deepEqual(crds, variant.includes('kube-prometheus-stack') || variant.includes('kubeadm') ? ['PrometheusRule', 'ServiceMonitor'] : []);
    });
  }

  void it('the image tag is written in one place, the package version', () => {
    const files = spawnSync('grep', ['-rl', `newTag: ${VERSION}`, 'deploy'], { cwd: root, encoding: 'utf8' })
      .stdout.trim()
      .split('\n');
    assert.deepEqual(files, ['deploy/components/image/kustomization.yaml']);
  });
});

void describe('deploy/base', () => {
  let objects: K8sObject[];
  const find = <T>(kind: string, name?: string): T => findIn<T>(objects, kind, name);

  before(() => {
    objects = render('deploy/base');
  });

  void it('renders the agent into the vigil namespace with no CRD objects', () => {
    const kinds = objects.map((o) => o.kind).sort();
    for (const k of ['ConfigMap', 'DaemonSet', 'Namespace', 'Secret', 'Service', 'ServiceAccount']) assert.ok(kinds.includes(k), `no ${k}`);
    assert.ok(objects.some((o) => o.kind === 'ClusterRole') && objects.some((o) => o.kind === 'ClusterRoleBinding'), 'RBAC missing');
  });

  void it('runs the agent locked down: non-root, read-only root, no capabilities', () => {
    const ds = find<V1DaemonSet>('DaemonSet', 'vigil');
    const pod = ds.spec!.template.spec!;
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    const c = pod.containers.find((x) => x.name === 'vigil')!;
    assert.equal(c.securityContext?.runAsNonRoot, true);
    assert.notEqual(c.securityContext?.runAsUser, 0);
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
    assert.equal(c.securityContext?.capabilities?.add, undefined);
    assert.equal(pod.hostNetwork, undefined);
    // The one privileged step: chown of the hostPath data directory, with CHOWN and nothing else.
    for (const init of pod.initContainers ?? []) {
      assert.deepEqual(init.securityContext?.capabilities, { drop: ['ALL'], add: ['CHOWN'] });
      assert.equal(init.securityContext?.readOnlyRootFilesystem, true);
      assert.equal(init.securityContext?.allowPrivilegeEscalation, false);
    }
    for (const x of [c, ...(pod.initContainers ?? [])]) {
      assert.ok(x.resources?.requests?.cpu && x.resources.requests.memory, `${x.name}: resource requests`);
      assert.ok(x.resources?.limits?.cpu && x.resources.limits.memory, `${x.name}: resource limits`);
    }
  });

  void it('tolerates control-plane, node-condition and NoExecute taints, never the taints of a node an autoscaler is removing', () => {
    const tolerations = find<V1DaemonSet>('DaemonSet', 'vigil').spec!.template.spec!.tolerations!;
    // Kubernetes' own matching (ToleratesTaint): an empty key with Exists matches every key, an empty effect every effect.
    const tolerated = (taint: { key: string; value?: string; effect: string }) =>
      tolerations.some((t) => (!t.effect || t.effect === taint.effect) && (!t.key ? t.operator === 'Exists' : t.key === taint.key && (t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? ''))));
    for (const taint of [
      { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
      { key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' },
      { key: 'dedicated', value: 'infra', effect: 'NoExecute' },
    ]) {
      assert.ok(tolerated(taint), `${taint.key}:${taint.effect} is tolerated`);
    }
    for (const taint of [
      { key: 'ToBeDeletedByClusterAutoscaler', value: '1700000000', effect: 'NoSchedule' },
      { key: 'DeletionCandidateOfClusterAutoscaler', value: '1700000000', effect: 'PreferNoSchedule' },
      { key: 'karpenter.sh/disrupted', effect: 'NoSchedule' },
      { key: 'karpenter.sh/disruption', value: 'disrupting', effect: 'NoSchedule' },
    ]) {
      assert.ok(!tolerated(taint), `${taint.key}:${taint.effect} (an autoscaler removing the node) is not tolerated`);
    }
  });

  void it('gives the agent its identity, config, token, data directory, ports and health checks', () => {
    const ds = find<V1DaemonSet>('DaemonSet', 'vigil');
    const pod = ds.spec!.template.spec!;
    const c = pod.containers.find((x) => x.name === 'vigil')!;
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
    assert.deepEqual(env, { NODE_NAME: 'spec.nodeName', POD_IP: 'status.podIP', HOST_IP: 'status.hostIP', POD_NAMESPACE: 'metadata.namespace' });
    const port = c.ports?.find((p) => p.name === 'http');
    assert.equal(port?.containerPort, 10924);
    assert.equal(port?.hostPort, 10924);
    assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(c.livenessProbe?.httpGet?.port, 'http');

    const volumes = new Map(pod.volumes!.map((v) => [v.name, v]));
    const mountOf = (p: string) => c.volumeMounts!.find((m) => m.mountPath === p);
    const configFile = c.args!.find((a) => a.startsWith('--config.file='))!.split('=')[1]!;
    const configVolume = volumes.get(mountOf(path.dirname(configFile))!.name)!;
    const cm = find<V1ConfigMap>('ConfigMap', 'vigil-config');
    assert.equal(configVolume.configMap?.name, cm.metadata!.name, 'the config volume names the generated ConfigMap');
    assert.ok(cm.data?.[path.basename(configFile)], 'the ConfigMap holds the config file');

    const config = parse(cm.data[path.basename(configFile)]!) as { storage: { path: string } };
    const data = volumes.get(mountOf(config.storage.path)!.name)!;
    assert.equal(data.hostPath?.path, '/var/lib/vigil');
    assert.equal(mountOf(config.storage.path)!.readOnly, undefined);

    const secret = find<V1Secret>('Secret', 'vigil-peer-token');
    const tokenVolume = [...volumes.values()].find((v) => v.secret)!;
    assert.equal(tokenVolume.secret?.secretName, secret.metadata!.name);
    assert.ok(secret.stringData?.token ?? secret.data?.token);
    // One token path everywhere: the config's, the Secret's mount and key, and what `vigil status` reads by default.
    const tokenMount = c.volumeMounts!.find((m) => m.name === tokenVolume.name)!;
    const tokenFile = (parse(cm.data[path.basename(configFile)]!) as { peers: { tokenFile: string } }).peers.tokenFile;
    assert.equal(tokenFile, path.posix.join(tokenMount.mountPath, 'token'));
    assert.equal(tokenFile, DEFAULT_TOKEN_FILE);
    assert.equal(pod.serviceAccountName, find<K8sObject>('ServiceAccount', 'vigil').metadata.name);
    for (const m of c.volumeMounts!) if (m.name !== 'data' && m.name !== 'tmp') assert.equal(m.readOnly, true, `${m.mountPath} must be read-only`);
  });

  void it('ships a config the agent accepts', () => {
    const cm = find<V1ConfigMap>('ConfigMap', 'vigil-config');
    const text = cm.data!['config.yaml']!;
    const config = loadConfig({ probes: builtinProbes, file: { name: 'config.yaml', text }, env: { NODE_NAME: 'node-a', POD_IP: '198.18.0.2', HOST_IP: '198.18.1.2', POD_NAMESPACE: 'vigil' } });
    assert.equal(config.web.listenAddress.text, ':10924');
    assert.equal(config.node.name, 'node-a');
  });

  void it('finds its peers among the agents only: not probe pods, not the etcd-probe agents', () => {
    const text = find<V1ConfigMap>('ConfigMap', 'vigil-config').data!['config.yaml']!;
    const selector = (parse(text) as { peers: { kubernetes: { labelSelector: string } } }).peers.kubernetes.labelSelector;
    const matches = (labels: Record<string, string>) => selector.split(',').every((term) => labels[term.split('=')[0]!] === term.split('=')[1]);
    assert.ok(matches(find<V1DaemonSet>('DaemonSet', 'vigil').spec!.template.metadata!.labels!), 'the agents');
    const etcdPod = findIn<V1DaemonSet>(render('deploy/overlays/kubeadm-etcd'), 'DaemonSet', 'vigil-etcd').spec!.template.metadata!.labels!;
    assert.ok(!matches(etcdPod), 'not the etcd-probe agents');
  });
});

type ServiceMonitor = {
  metadata: { labels: Record<string, string> };
  spec: { jobLabel?: string; selector: { matchLabels: Record<string, string> }; endpoints: { port: string; relabelings: { sourceLabels: string[]; targetLabel: string }[] }[] };
};

void describe('deploy/overlays/kube-prometheus-stack and kubeadm-etcd', () => {
  for (const variant of ['deploy/overlays/kube-prometheus-stack', 'deploy/overlays/kubeadm-etcd']) {
    void it(`${variant}: the ServiceMonitor scrapes every agent Service as job "vigil" with a node label; rules and ServiceMonitor carry the release label`, () => {
      const objects = render(variant);
      const sm = findIn<ServiceMonitor>(objects, 'ServiceMonitor', 'vigil');
      const rule = findIn<{ metadata: { labels: Record<string, string> }; spec: { groups: unknown } }>(objects, 'PrometheusRule', 'vigil');
      // kube-prometheus-stack's Prometheus selects both by release: <Helm release name>.
      assert.equal(sm.metadata.labels.release, 'kube-prometheus-stack');
      assert.equal(rule.metadata.labels.release, 'kube-prometheus-stack');
      assert.deepEqual(rule.spec.groups, (parse(readFileSync(path.join(root, 'alerts/vigil.rules.yml'), 'utf8')) as { groups: unknown }).groups);
      const services = objects.filter((o) => o.kind === 'Service') as unknown as V1Service[];
      assert.equal(services.length, variant.includes('etcd') ? 2 : 1);
      for (const svc of services) {
        const ds = (objects.filter((o) => o.kind === 'DaemonSet') as unknown as V1DaemonSet[]).find((d) => Object.entries(svc.spec!.selector!).every(([k, v]) => d.spec!.template.metadata!.labels![k] === v));
        assert.ok(ds, `Service ${svc.metadata!.name} selects a DaemonSet's pods`);
        assert.equal(svc.spec!.clusterIP, 'None');
        for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(svc.metadata!.labels![k], v, `ServiceMonitor selects Service ${svc.metadata!.name}`);
        assert.ok(
          svc.spec!.ports!.some((p) => p.name === sm.spec.endpoints[0]!.port),
          `Service ${svc.metadata!.name} has the port ${sm.spec.endpoints[0]!.port}`,
        );
        // The rules match job="vigil": the job label comes from this Service label.
        assert.equal(svc.metadata!.labels![sm.spec.jobLabel!], 'vigil');
      }
      assert.ok(sm.spec.endpoints[0]!.relabelings.some((r) => r.targetLabel === 'node' && r.sourceLabels.includes('__meta_kubernetes_pod_node_name')));
      const cm = findIn<V1ConfigMap>(objects, 'ConfigMap', 'vigil-dashboards');
      assert.equal(cm.metadata!.labels!.grafana_dashboard, '1');
      const files = readdirSync(path.join(root, 'grafana'))
        .filter((f) => f.endsWith('.json'))
        .sort();
      assert.deepEqual(Object.keys(cm.data!).sort(), files);
      for (const f of files) assert.equal(cm.data![f], readFileSync(path.join(root, 'grafana', f), 'utf8'));
    });
  }
});

void describe('deploy/overlays/prometheus', () => {
  void it('ships the rules as a ConfigMap and a scrape job that real Prometheus accepts, with job "vigil" and a node label', () => {
    const objects = render('deploy/overlays/prometheus');
    const rules = findIn<V1ConfigMap>(objects, 'ConfigMap', 'vigil-rules');
    assert.equal(rules.data!['vigil.rules.yml'], readFileSync(path.join(root, 'alerts/vigil.rules.yml'), 'utf8'));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-prom-'));
    try {
      writeFileSync(path.join(dir, 'vigil.rules.yml'), rules.data!['vigil.rules.yml']);
      const jobs = parse(readFileSync(path.join(root, 'deploy/components/prometheus/scrape-config.yaml'), 'utf8')) as { job_name: string; relabel_configs: { source_labels?: string[]; target_label?: string }[] }[];
      assert.deepEqual(
        jobs.map((j) => j.job_name),
        ['vigil'],
      );
      assert.ok(jobs[0]!.relabel_configs.some((r) => r.target_label === 'node' && r.source_labels?.includes('__meta_kubernetes_pod_node_name')));
      // Debian's Prometheus is built without Kubernetes service discovery: promtool checks the job
      // (relabelling included) with a static target in its place, and the rules file it names.
      const { kubernetes_sd_configs: sd, ...job } = jobs[0] as unknown as { kubernetes_sd_configs: { role: string; namespaces: { names: string[] } }[] };
      assert.deepEqual(sd, [{ role: 'endpoints', namespaces: { names: ['vigil'] } }]);
      const checked = { ...job, static_configs: [{ targets: ['198.18.0.2:10924'], labels: { __meta_kubernetes_pod_node_name: 'node-a' } }] };
      writeFileSync(path.join(dir, 'prometheus.yml'), stringify({ rule_files: [path.join(dir, 'vigil.rules.yml')], scrape_configs: [checked] }));
      const check = spawnSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], { encoding: 'utf8' });
      assert.equal(check.status, 0, check.stdout + check.stderr);
      assert.match(check.stdout, /SUCCESS: \d+ rules found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

void describe('deploy/components/node-conditions (in an overlay of deploy/base)', () => {
  let objects: K8sObject[];
  before(() => {
    objects = render(NODE_CONDITIONS);
  });

  void it('turns the option on in the agent, which the base leaves off', () => {
    const argsOf = (objs: K8sObject[]) => findIn<V1DaemonSet>(objs, 'DaemonSet', 'vigil').spec!.template.spec!.containers.find((c) => c.name === 'vigil')!.args!;
    const configText = (objs: K8sObject[]) => findIn<V1ConfigMap>(objs, 'ConfigMap', 'vigil-config').data!['config.yaml']!;
    const nodeConditions = (objs: K8sObject[]) => {
      const args = argsOf(objs);
      return loadConfig({ probes: builtinProbes, file: { name: 'config.yaml', text: configText(objs) }, flags: { 'kubernetes.node-conditions': args.includes('--kubernetes.node-conditions') ? 'true' : undefined } }).kubernetes
        .nodeConditions;
    };
    assert.equal(nodeConditions(objects), true);
    assert.equal(nodeConditions(render('deploy/base')), false);
    assert.deepEqual(argsOf(objects).slice(0, 2), argsOf(render('deploy/base')), "the base's arguments kept");
  });

  void it('grants patch on nodes/status cluster-wide and create on events in "default", to vigil/vigil, and nothing more', () => {
    const rules = (kind: string, name: string) => (findIn<K8sObject>(objects, kind, name) as unknown as { rules: unknown[] }).rules;
    assert.deepEqual(rules('ClusterRole', 'vigil-node-conditions'), [{ apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] }]);
    assert.deepEqual(rules('Role', 'vigil-node-events'), [{ apiGroups: [''], resources: ['events'], verbs: ['create'] }]);
    for (const [kind, name] of [
      ['ClusterRoleBinding', 'vigil-node-conditions'],
      ['RoleBinding', 'vigil-node-events'],
    ] as const) {
      assert.deepEqual((findIn<K8sObject>(objects, kind, name) as unknown as { subjects: unknown[] }).subjects, [{ kind: 'ServiceAccount', name: 'vigil', namespace: 'vigil' }]);
    }
  });
});

void describe('deploy/components/etcd (in deploy/overlays/kubeadm-etcd)', () => {
  let objects: K8sObject[];
  before(() => {
    objects = render('deploy/overlays/kubeadm-etcd');
  });

  void it('runs on control-plane nodes only, tolerating their taints; the agents elsewhere never run the etcd probe', () => {
    const pod = findIn<V1DaemonSet>(objects, 'DaemonSet', 'vigil-etcd').spec!.template.spec!;
    const terms = pod.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms;
    assert.deepEqual(terms, [{ matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] }]);
    assert.ok(pod.tolerations!.some((t) => t.key === 'node-role.kubernetes.io/control-plane' && t.effect === 'NoSchedule'));
    const agents = findIn<V1DaemonSet>(objects, 'DaemonSet', 'vigil').spec!.template.spec!;
    const agentConfig = loadConfig({ probes: builtinProbes, file: { name: 'config.yaml', text: findIn<V1ConfigMap>(objects, 'ConfigMap', 'vigil-config').data!['config.yaml']! } });
    assert.equal(agentConfig.probes.etcd?.enabled, false);
    assert.ok(!agents.volumes!.some((v) => v.hostPath?.path.startsWith('/etc/kubernetes')), 'the agents on every node see no certificates');
  });

  void it('probes the local member with the kubeadm certificates, mounted read-only where its config reads them', () => {
    const ds = findIn<V1DaemonSet>(objects, 'DaemonSet', 'vigil-etcd');
    const pod = ds.spec!.template.spec!;
    const c = pod.containers[0]!;
    const configFile = c.args!.find((a) => a.startsWith('--config.file='))!.split('=')[1]!;
    const mountOf = (file: string) => c.volumeMounts!.filter((m) => file.startsWith(`${m.mountPath}/`)).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    const volume = (name: string) => pod.volumes!.find((v) => v.name === name)!;
    const cm = findIn<V1ConfigMap>(objects, 'ConfigMap', 'vigil-etcd-config');
    assert.equal(volume(mountOf(configFile)!.name).configMap?.name, cm.metadata!.name);
    const text = cm.data![path.basename(configFile)]!;
    const config = loadConfig({ probes: builtinProbes, file: { name: 'config.yaml', text }, env: { NODE_NAME: 'cp-1', POD_NAMESPACE: 'vigil' } });
    const enabled = Object.entries(config.probes)
      .filter(([, p]) => p.enabled)
      .map(([n]) => n);
    assert.deepEqual(enabled, ['etcd']);
    const etcd = config.probes.etcd as unknown as { endpoints: string[]; tls: { caFile: string; certFile: string; keyFile: string } };
    assert.deepEqual(etcd.endpoints, ['127.0.0.1:2379']);
    assert.equal(pod.hostNetwork, true, "127.0.0.1:2379 is the node's own member");
    assert.deepEqual(etcd.tls, { caFile: '/etc/kubernetes/pki/etcd/ca.crt', certFile: '/etc/kubernetes/pki/etcd/healthcheck-client.crt', keyFile: '/etc/kubernetes/pki/etcd/healthcheck-client.key' });
    for (const file of Object.values(etcd.tls)) {
      const m = mountOf(file)!;
      assert.equal(m.readOnly, true, `${file} is mounted read-only`);
      assert.deepEqual(volume(m.name).hostPath, { path: '/etc/kubernetes/pki/etcd', type: 'Directory' });
      assert.equal(path.posix.relative(m.mountPath, file), path.basename(file));
    }
    // Its own listen port (the agent holds 10924 on the node) and data directory.
    assert.equal(config.web.listenAddress.text, ':10925');
    assert.equal(c.ports![0]!.containerPort, 10925);
    assert.equal(volume(mountOf(path.join(config.storage.path, 'history.db'))!.name).hostPath?.path, '/var/lib/vigil-etcd');
  });

  void it('has exactly the privileges reading the root-only key needs: uid 0 with no capability, nothing else', () => {
    const pod = findIn<V1DaemonSet>(objects, 'DaemonSet', 'vigil-etcd').spec!.template.spec!;
    const c = pod.containers[0]!;
    assert.equal(pod.securityContext?.runAsUser, 0);
    assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    assert.equal(pod.automountServiceAccountToken, false, 'no API access');
    assert.equal(pod.serviceAccountName, undefined);
    assert.equal(pod.initContainers, undefined);
    for (const m of c.volumeMounts!) if (m.name !== 'data' && m.name !== 'tmp') assert.equal(m.readOnly, true, `${m.mountPath} must be read-only`);
  });
});

void describe('the README install section', () => {
  void it('followed literally, up to kubectl kustomize, gives manifests with the pushed image, the release label and a fresh token', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const block = /```sh\n(mkdir -p \.\.\/vigil-prod[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block, 'the README has the overlay block');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-install-'));
    try {
      // "next to this checkout (here vigil/)": a copy of what kustomize reads.
      for (const d of ['deploy', 'grafana', 'alerts']) cpSync(path.join(root, d), path.join(dir, 'vigil', d), { recursive: true });
      const r = spawnSync('bash', ['-euo', 'pipefail', '-c', block], { cwd: path.join(dir, 'vigil'), encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const objects = parseAllDocuments(readFileSync(path.join(dir, 'vigil-prod/vigil.yaml'), 'utf8')).map((d) => d.toJS() as K8sObject);
      const images = (objects.filter((o) => o.kind === 'DaemonSet') as unknown as V1DaemonSet[]).flatMap((d) => [...d.spec!.template.spec!.containers, ...(d.spec!.template.spec!.initContainers ?? [])].map((c) => c.image));
      assert.ok(images.length > 0);
      for (const image of images) assert.equal(image, `registry.example.com/vigil:${VERSION}`);
      for (const kind of ['ServiceMonitor', 'PrometheusRule']) assert.equal(findIn<K8sObject>(objects, kind, 'vigil').metadata.labels!.release, 'kube-prometheus-stack', kind);
      const secret = findIn<V1Secret>(objects, 'Secret', 'vigil-peer-token');
      const token = Buffer.from(secret.data!.token!, 'base64').toString().trim();
      assert.equal(token, readFileSync(path.join(dir, 'vigil-prod/token'), 'utf8').trim());
      assert.match(token, /^[0-9a-f]{64}$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
