// The kustomize base renders, every object validates offline against the Kubernetes (and the
// Prometheus operator's CRD) schemas, and the pieces fit together: the DaemonSet is locked down,
// gets its identity from the downward API, and mounts the ConfigMap, Secret and data directory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { parseAllDocuments, parse } from 'yaml';
import type { V1ConfigMap, V1DaemonSet, V1Secret, V1Service } from '@kubernetes/client-node';
import { loadConfig } from '../src/config/load.ts';
import { builtinProbes } from '../src/probes/index.ts';
import { schemaErrors, unknownFields } from './support/k8s-schema.ts';

const root = path.resolve(import.meta.dirname, '..');

interface K8sObject { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown }

void describe('deploy/base', () => {
  let objects: K8sObject[];
  const find = <T>(kind: string, name?: string): T => {
    const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name || x.metadata.name.startsWith(`${name}-`)));
    assert.ok(o, `no ${kind}${name ? ` ${name}` : ''} in the rendered manifests`);
    return o as unknown as T;
  };

  before(() => {
    const r = spawnSync('kubectl', ['kustomize', 'deploy/base'], { cwd: root, encoding: 'utf8' });
    if (r.error) throw new Error(`cannot run kubectl: ${r.error.message}`, { cause: r.error });
    assert.equal(r.status, 0, r.stderr);
    objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject);
  });

  void it('renders the whole bundle into the vigil namespace', () => {
    const kinds = objects.map((o) => o.kind).sort();
    for (const k of ['ConfigMap', 'DaemonSet', 'Namespace', 'PrometheusRule', 'Secret', 'Service', 'ServiceAccount', 'ServiceMonitor']) assert.ok(kinds.includes(k), `no ${k}`);
    assert.ok(objects.some((o) => o.kind === 'ClusterRole') && objects.some((o) => o.kind === 'ClusterRoleBinding'), 'RBAC missing');
    // Everything lives in vigil, but for the permission to read the control-plane leases.
    for (const o of objects) {
      if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) continue;
      const want = o.kind.startsWith('Role') && o.metadata.name === 'vigil-control-plane-leases' ? 'kube-system' : 'vigil';
      assert.equal(o.metadata.namespace, want, `${o.kind} ${o.metadata.name}`);
    }
  });

  void it('validates every object against its schema, with no unknown fields', async () => {
    for (const o of objects) {
      const where = `${o.kind} ${o.metadata.name}`;
      assert.deepEqual(await schemaErrors(o), [], `${where}: schema errors`);
      if (o.apiVersion !== 'monitoring.coreos.com/v1') assert.deepEqual(unknownFields(o), [], `${where}: unknown fields`);
    }
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
    assert.equal(pod.serviceAccountName, find<K8sObject>('ServiceAccount', 'vigil').metadata.name);
    for (const m of c.volumeMounts!) if (m.name !== 'data' && m.name !== 'tmp') assert.equal(m.readOnly, true, `${m.mountPath} must be read-only`);
  });

  void it('ships a config the agent accepts', () => {
    const cm = find<V1ConfigMap>('ConfigMap', 'vigil-config');
    const text = cm.data!['config.yaml']!;
    const config = loadConfig({ probes: builtinProbes, file: { name: 'config.yaml', text }, env: { NODE_NAME: 'node-a', POD_IP: '198.18.0.2', HOST_IP: '198.18.1.2', POD_NAMESPACE: 'vigil' } });
    assert.equal(config.web.listenAddress, ':10924');
    assert.equal(config.node.name, 'node-a');
  });

  void it('wires the Service and ServiceMonitor to the agents, with a node label from discovery', () => {
    const ds = find<V1DaemonSet>('DaemonSet', 'vigil');
    const podLabels = ds.spec!.template.metadata!.labels!;
    const svc = find<V1Service>('Service', 'vigil');
    assert.equal(svc.spec?.clusterIP, 'None');
    for (const [k, v] of Object.entries(svc.spec.selector!)) assert.equal(podLabels[k], v, `Service selector ${k}`);
    assert.equal(svc.spec.ports![0]!.port, 10924);
    // The rules match job="vigil": a ServiceMonitor's job label is the Service's name.
    assert.equal(svc.metadata!.name, 'vigil');
    const sm = find<{ spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; relabelings: { sourceLabels: string[]; targetLabel: string }[] }[] } }>('ServiceMonitor', 'vigil');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(svc.metadata!.labels![k], v, `ServiceMonitor selector ${k}`);
    assert.equal(sm.spec.endpoints[0]!.port, svc.spec.ports![0]!.name);
    assert.ok(sm.spec.endpoints[0]!.relabelings.some((r) => r.targetLabel === 'node' && r.sourceLabels.includes('__meta_kubernetes_pod_node_name')));
  });

  void it('carries the dashboards and the rules', () => {
    const cm = find<V1ConfigMap>('ConfigMap', 'vigil-dashboards');
    assert.equal(cm.metadata!.labels!.grafana_dashboard, '1');
    const files = readdirSync(path.join(root, 'grafana')).filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(Object.keys(cm.data!).sort(), files);
    for (const f of files) assert.equal(cm.data![f], readFileSync(path.join(root, 'grafana', f), 'utf8'));
    const rule = find<{ spec: { groups: unknown } }>('PrometheusRule', 'vigil');
    assert.deepEqual(rule.spec.groups, (parse(readFileSync(path.join(root, 'alerts/vigil.rules.yml'), 'utf8')) as { groups: unknown }).groups);
  });
});
