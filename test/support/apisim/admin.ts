import type { AdmissionSettings } from './admission.ts';
import type { ApiSim } from './server.ts';
import { RESOURCES, type KObject, type Resource } from './store.ts';

export interface AdminReply {
  code: number;
  body: unknown;
}

const bad = (message: string): AdminReply => ({ code: 400, body: { error: message } });
const ok = (body: unknown = { ok: true }): AdminReply => ({ code: 200, body });
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const BEHAVIOUR_KEYS = new Set([
  'node',
  'schedulingDelayMs',
  'startDelayMs',
  'terminationDelayMs',
  'unschedulable',
  'imagePullError',
  'imagePullFailures',
  'imagePullBackOffMs',
  'kubeletReject',
  'createContainerError',
  'createContainerFailures',
  'createContainerRetryMs',
  'stuckTerminating',
  'pullInProgress',
]);

/**
 * The test and demo control surface under /_sim/: faults, node behaviour, cordons, leases,
 * health checks, compaction, and the request log.
 */
export function handleAdmin(sim: ApiSim, method: string, pathname: string, body: unknown): AdminReply {
  const parts = pathname.split('/').filter(Boolean).slice(1).map(decodeURIComponent);
  const [what, name] = parts;
  const b = isObject(body) ? body : {};
  switch (`${method} ${what ?? ''}`) {
    case 'GET state':
      return ok(sim.state());
    case 'GET requests':
      return ok(sim.requests);
    case 'DELETE requests':
      sim.requests.length = 0;
      return ok();
    case 'POST faults': {
      const unknown = Object.keys(b).filter((k) => !['latencyMs', 'errorBurst', 'denials', 'rbac', 'policies'].includes(k));
      if (unknown.length) return bad(`unknown fault ${unknown.join(', ')} (known: latencyMs, errorBurst, denials, rbac, policies)`);
      if ('latencyMs' in b && !(typeof b.latencyMs === 'number' && b.latencyMs >= 0)) return bad(`latencyMs: expected a number of milliseconds >= 0, got ${JSON.stringify(b.latencyMs)}`);
      const burst = b.errorBurst;
      if (burst !== undefined && !(isObject(burst) && typeof burst.count === 'number' && (burst.code === 500 || burst.code === 503 || burst.code === 429))) return bad('errorBurst: expected {"count": N, "code": 500, 503 or 429}');
      for (const k of ['denials', 'rbac', 'policies']) if (k in b && b[k] !== undefined && !Array.isArray(b[k])) return bad(`${k}: expected a list`);
      sim.faults.set(b);
      return ok(sim.faults.settings);
    }
    case 'POST behaviour': {
      const unknown = Object.keys(b).filter((k) => !BEHAVIOUR_KEYS.has(k));
      if (unknown.length) return bad(`unknown behaviour ${unknown.join(', ')} (known: ${[...BEHAVIOUR_KEYS].join(', ')})`);
      for (const k of ['schedulingDelayMs', 'startDelayMs', 'terminationDelayMs', 'imagePullFailures', 'imagePullBackOffMs', 'createContainerFailures', 'createContainerRetryMs']) {
        if (k in b && !(typeof b[k] === 'number' && b[k] >= 0)) return bad(`${k}: expected ${k.endsWith('Ms') ? 'a number of milliseconds' : 'a number'} >= 0, got ${JSON.stringify(b[k])}`);
      }
      for (const k of ['node', 'unschedulable', 'imagePullError', 'kubeletReject', 'createContainerError']) {
        if (k in b && b[k] !== null && typeof b[k] !== 'string') return bad(`${k}: expected a string (or null to clear it), got ${JSON.stringify(b[k])}`);
        if (b[k] === null) b[k] = undefined;
      }
      for (const k of ['stuckTerminating', 'pullInProgress']) {
        if (k in b && typeof b[k] !== 'boolean') return bad(`${k}: expected true or false, got ${JSON.stringify(b[k])}`);
      }
      const { node, ...patch } = b;
      sim.behaviours.set(patch, typeof node === 'string' ? node : undefined);
      return ok();
    }
    case 'POST nodes':
      if (name === undefined) {
        if (typeof b.name !== 'string') return bad('expected {"name": "<node>"}');
        sim.addNode(b.name);
        return ok();
      }
      if (!sim.store.get('nodes', undefined, name)) return { code: 404, body: { error: `no node ${name}` } };
      if (b.unschedulable !== undefined) sim.cordon(name, Boolean(b.unschedulable));
      if (Array.isArray(b.taints)) sim.store.update('nodes', undefined, name, (n) => (n.spec = { ...n.spec, taints: b.taints }));
      return ok();
    case 'DELETE nodes':
      if (!name || !sim.store.get('nodes', undefined, name)) return { code: 404, body: { error: `no node ${name ?? ''}` } };
      sim.store.remove('nodes', undefined, name);
      return ok();
    case 'POST leases':
      if (!name) return bad('expected /_sim/leases/<name>');
      sim.controlPlane.set(name, { ageSeconds: num(b.ageSeconds), autoRenew: typeof b.autoRenew === 'boolean' ? b.autoRenew : undefined, remove: b.remove === true });
      return ok();
    case 'POST health':
      for (const ep of ['livez', 'readyz', 'healthz'] as const) {
        const v = b[ep];
        if (v === undefined) continue;
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return bad(`${ep}: expected a list of check names`);
        sim.health.failing[ep] = v as string[];
      }
      return ok(sim.health.failing);
    case 'POST objects': {
      // Stores an object as given, status included (the API itself ignores status on create):
      // the demo's agent pods with their pod IPs, say. A pod with spec.nodeName is started by its kubelet.
      const resource = name as Resource | undefined;
      if (!resource || !(resource in RESOURCES)) return bad(`expected /_sim/objects/<${Object.keys(RESOURCES).join('|')}>`);
      const obj = b as unknown as KObject;
      if (!isObject(obj.metadata) || typeof obj.metadata.name !== 'string') return bad('expected an object with metadata.name');
      if (RESOURCES[resource].namespaced && typeof obj.metadata.namespace !== 'string') return bad('expected metadata.namespace');
      try {
        return { code: 201, body: sim.store.create(resource, obj) };
      } catch (err) {
        return { code: 409, body: { error: (err as Error).message } };
      }
    }
    case 'POST compact':
      sim.store.compact();
      return ok({ oldestResourceVersion: Object.fromEntries((Object.keys(RESOURCES) as Resource[]).map((r) => [r, sim.store.oldestResourceVersion(r)])) });
    case 'POST restart': {
      for (const k of ['initializingMs', 'admissionNotReadyMs', 'admissionWaitMs']) {
        if (k in b && !(typeof b[k] === 'number' && b[k] >= 0)) return bad(`${k}: expected a number of milliseconds >= 0, got ${JSON.stringify(b[k])}`);
      }
      return ok({ closed: sim.restart({ initializingMs: num(b.initializingMs), admissionNotReadyMs: num(b.admissionNotReadyMs), admissionWaitMs: num(b.admissionWaitMs) }) });
    }
    case 'POST admission': {
      // {"namespaces": {"vigil": {"labels": {...}}}, "priorityClasses": [...], "quotas": [...], "limitedPriorityClasses": [...]}: replaces the keys given.
      const unknown = Object.keys(b).filter((k) => !['namespaces', 'priorityClasses', 'quotas', 'limitedPriorityClasses'].includes(k));
      if (unknown.length) return bad(`unknown admission setting ${unknown.join(', ')} (known: namespaces, priorityClasses, quotas, limitedPriorityClasses)`);
      if ('namespaces' in b && !isObject(b.namespaces)) return bad('namespaces: expected {"<name>": {"labels": {...}}}');
      for (const k of ['priorityClasses', 'quotas', 'limitedPriorityClasses']) if (k in b && !Array.isArray(b[k])) return bad(`${k}: expected a list`);
      sim.admission = { ...sim.admission, ...(b as Partial<AdmissionSettings>) };
      return ok(sim.admission);
    }
    case 'POST close-watches':
      return ok({ closed: sim.closeWatches() });
    case 'POST reset':
      sim.reset();
      return ok();
    default:
      return { code: 404, body: { error: `unknown admin endpoint ${method} ${pathname} (try GET /_sim/state)` } };
  }
}

const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
