import { abortable, settledOrAborted } from '../../abortable.ts';
import { admissionDenial, describeApiError } from '../../k8s/errors.ts';
import { PodWatch, type SeenEvent } from '../../k8s/pod-watch.ts';
import { podProgress, probePodManifest, probePodName, probePodSelector } from './pod.ts';
import type { KubeClients } from '../../k8s/client.ts';
import { podSchedulingMetrics, type PodSchedulingMetrics } from '../../metrics/metrics.ts';
import { withKubeClients } from '../kube.ts';
import { errorText } from '../../errors.ts';
import type { ProbeResult } from '../../verdict.ts';
import type { Clock } from '../../clock.ts';
import type { Logger } from '../../log.ts';
import { defineProbe } from '../probe.ts';
import { podStartupCondition } from './condition.ts';
import { CLEANUP_TIMEOUT_MS, DELETE_GRACE_SECONDS, options, type Options } from './options.ts';
import { phasesFrom } from './phases.ts';
import { correlatePodScheduling } from './correlate.ts';
import { podSchedulingFacts, type PodSchedulingFacts } from './facts.ts';

const REASONS = ['unschedulable', 'image-pull', 'container-create', 'kubelet-rejected', 'startup-timeout', 'deletion-timeout', 'forbidden', 'admission-denied', 'api-error'] as const;
type Reason = (typeof REASONS)[number];

const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 0)} s`;
const critical = (reason: Reason, message: string, observations?: ProbeResult['observations']): ProbeResult => ({ verdict: 'critical', reason, message, ...(observations ? { observations } : {}) });

class ApiCallFailed extends Error {
  readonly result: ProbeResult;
  constructor(result: ProbeResult, cause: unknown) {
    super(result.message, { cause });
    this.result = result;
  }
}

export const podSchedulingProbe = defineProbe({
  name: 'pod-scheduling',
  defaultEnabled: false,
  // Every agent creates one pod per interval: 1,000 nodes / 300 s ≈ 3.3 pod creations per second.
  defaultInterval: 300_000,
  defaultTimeout: 150_000,
  reasons: REASONS,
  clients: ['kubernetes'],
  options,
  facts: podSchedulingFacts,
  correlate: correlatePodScheduling,
  condition: podStartupCondition,
  // A request refused for want of RBAC was answered: only an API error is the API server not answering.
  apiUnanswered: (run) => run.reason === 'api-error',
  create({ kubernetes, node, clock, logger, registry }, opts) {
    const state: ProbeState = { node: node.name, clock, logger, metrics: podSchedulingMetrics(registry) };
    return {
      run: (signal) => {
        const result = withKubeClients(kubernetes, (k) => runOnce(state, opts, k, signal));
        state.current = result.then(
          () => undefined,
          () => undefined,
        );
        return result;
      },
      // The runner aborts what is still running, then closes: the aborted run ends (starting the
      // delete of its pod, if it made one), and that delete is done or given up before the agent exits.
      close: async () => {
        await state.current;
        await state.cleanup;
      },
    };
  },
});

/** Runs a client call; API failures become a ProbeResult (thrown as ApiCallFailed), aborts stay aborts. */
async function call<T>(signal: AbortSignal, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await abortable(fn(), signal);
  } catch (err) {
    if (signal.aborted) throw err;
    // Refused by admission or validation, not RBAC: granting permissions would not help, the pod or the namespace must change.
    const denied = admissionDenial(err);
    if (denied) throw new ApiCallFailed(critical('admission-denied', `${what}: refused by the API server's admission: ${denied}`), err);
    const f = describeApiError(err, what);
    throw new ApiCallFailed(critical(f.reason === 'forbidden' ? 'forbidden' : 'api-error', f.message), err);
  }
}

/** What the probe keeps across its runs: the node it probes, its clock, logger and metrics, and the run and clean-up under way. */
interface ProbeState {
  node: string;
  clock: Clock;
  logger: Logger;
  metrics: PodSchedulingMetrics;
  /**
   * The delete of a pod a failed run left behind, kept while it is under way: it outlives the run
   * when the run is aborted, so that a timed-out run ends at its timeout rather than up to
   * CLEANUP_TIMEOUT_MS later (and the next run is not skipped because of it).
   */
  cleanup?: Promise<void>;
  /** The latest run, settled either way: close() waits for it before it waits for its clean-up. */
  current?: Promise<void>;
}

async function runOnce(state: ProbeState, opts: Options, k: KubeClients, signal: AbortSignal): Promise<ProbeResult> {
  const facts: PodSchedulingFacts = { scheduled: false };
  try {
    return { ...(await probeNode(state, opts, k, state.node, signal, facts)), facts };
  } catch (err) {
    if (err instanceof ApiCallFailed) return { ...err.result, facts };
    throw err;
  }
}

async function probeNode(deps: ProbeState, opts: Options, k: KubeClients, node: string, signal: AbortSignal, facts: PodSchedulingFacts): Promise<ProbeResult> {
  const { clock, metrics } = deps;
  const ns = k.namespace;
  // The previous run's clean-up first: its pod is ours, not a leftover to reap and count.
  if (deps.cleanup) await abortable(deps.cleanup, signal);
  const nodeObj = await call(signal, `read node ${node}`, () => k.core.readNode({ name: node })).catch((err: unknown) => {
    if (err instanceof ApiCallFailed && (err.cause as { code?: number }).code === 404) {
      throw new ApiCallFailed(critical('api-error', `node ${node} is not known to the API server: check node.name ($NODE_NAME)`), err.cause);
    }
    throw err;
  });
  if (nodeObj.spec?.unschedulable) return { verdict: 'ok', skipped: true, message: `node ${node} is cordoned (spec.unschedulable): no probe pod scheduled` };

  // Leftovers of a crashed or killed agent go first: at most one probe pod per node.
  const selector = probePodSelector(node);
  const list = await call(signal, `list probe pods in namespace ${ns}`, () => k.core.listNamespacedPod({ namespace: ns, labelSelector: selector }));
  let reaped = 0;
  for (const p of list.items) {
    await call(signal, `delete leftover probe pod ${ns}/${p.metadata?.name}`, () => k.core.deleteNamespacedPod({ namespace: ns, name: p.metadata!.name!, gracePeriodSeconds: 0 })).catch((err: unknown) => {
      if (!(err instanceof ApiCallFailed && (err.cause as { code?: number }).code === 404)) throw err;
    });
    reaped++;
    metrics.podProbeReaped.inc();
  }
  if (reaped > 0) deps.logger.info({ reaped, node }, 'deleted leftover probe pods of this node');

  const watch = new PodWatch(clock);
  const budget = Math.ceil((opts.startupTimeout + opts.deletionTimeout) / 1000) + 10;
  try {
    const source = { watch: k.watch, path: `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`, labelSelector: selector, timeoutSeconds: budget, list: () => k.core.listNamespacedPod({ namespace: ns, labelSelector: selector }) };
    await watch.open(source, list.metadata?.resourceVersion ?? '0', signal);
  } catch (err) {
    if (signal.aborted) throw err;
    const f = describeApiError(err, `watch probe pods in namespace ${ns}`, { verb: 'watch', resource: 'pods', group: '', namespace: ns });
    return critical(f.reason === 'forbidden' ? 'forbidden' : 'api-error', f.message);
  }
  let uid: string | undefined;
  let createSent = false;
  let deleting = false;
  let gone = false;
  try {
    const manifest = probePodManifest({ node, namespace: ns, image: opts.image, priorityClassName: opts.priorityClassName, tolerations: opts.tolerations, activeDeadlineSeconds: Math.ceil(opts.activeDeadline / 1000) });
    const name = manifest.metadata!.name!;
    const t0 = clock.now();
    createSent = true;
    const created = await call(signal, `create probe pod ${ns}/${name}`, () => k.core.createNamespacedPod({ namespace: ns, body: manifest }));
    uid = created.metadata?.uid;
    const ours = (): SeenEvent[] => watch.events.filter((e) => e.pod.metadata?.uid === uid);
    const first = (pred: (e: SeenEvent) => boolean) => ours().find(pred);
    const latest = () => ours().at(-1);

    // While the watch is down nothing can be seen: a timeout then blames the API, not the pod.
    const blind = (what: string) => {
      const d = watch.down;
      return d && critical('api-error', `${what}: the watch on probe pods has been down for ${secs(clock.now() - d.from)}: ${d.error.message}`);
    };
    const scheduled = await watch.wait(() => first((e) => e.type !== 'DELETED' && podProgress(e.pod).scheduled), opts.schedulingTimeout - (clock.now() - t0), signal);
    if (!scheduled) {
      const b = blind(`probe pod not seen scheduled in ${secs(opts.schedulingTimeout)}`);
      if (b) return b;
      const last = latest();
      const why = last ? podProgress(last.pod).schedulerMessage : undefined;
      return critical('unschedulable', `probe pod not scheduled in ${secs(opts.schedulingTimeout)}: ${why ?? 'the scheduler has not acted on it (is kube-scheduler running?)'}`);
    }
    facts.scheduled = true;
    // The create call's start stands in for a creation the watch did not show.
    const phases = (deleteRequestedAt?: number) => phasesFrom(ours(), watch.gaps, { createdAt: t0, ...(deleteRequestedAt === undefined ? {} : { deleteRequestedAt }) });
    const sched = phases().scheduling!;
    if (sched.timed) metrics.podSchedulingDuration.observe(sched.ms / 1000);

    type Outcome = { kind: 'running'; at: number } | { kind: 'failed'; reason: Reason; message: string } | { kind: 'deleted' };
    const outcome = await watch.wait(
      (): Outcome | undefined => {
        const e = latest();
        if (!e) return undefined;
        if (e.type === 'DELETED') return { kind: 'deleted' };
        const p = podProgress(e.pod);
        // The kubelet retries pulls (ErrImagePull, ImagePullBackOff, ...) and creates (CreateContainerError, ...): only the timeout makes them a failure.
        if (p.failure && !p.failure.retrying) return { kind: 'failed', ...p.failure };
        const up = first((x) => x.type !== 'DELETED' && podProgress(x.pod).running);
        return up ? { kind: 'running', at: up.at } : undefined;
      },
      opts.startupTimeout - (clock.now() - t0),
      signal,
    );
    const observations: Record<string, number> = sched.timed ? { 'scheduling seconds': sched.ms / 1000 } : {};
    const schedText = sched.timed ? `in ${secs(sched.ms)}` : '(not timed)';
    if (!outcome) {
      const b = blind(`probe pod scheduled on ${node} ${schedText} but not seen running after ${secs(opts.startupTimeout)}`);
      if (b) return { ...b, observations };
      const now = latest() && podProgress(latest()!.pod);
      if (now?.failure) {
        // The back-off's own text hides the cause; the last pull error names it.
        const cause =
          ours()
            .map((e) => podProgress(e.pod).failure)
            .findLast((f) => f && !/ImagePullBackOff/.test(f.message)) ?? now.failure;
        return critical(now.failure.reason, `on node ${node}: ${cause.message}; still failing after ${secs(opts.startupTimeout)}`, observations);
      }
      const w = now?.waiting;
      return critical('startup-timeout', `probe pod scheduled on ${node} ${schedText} but not running after ${secs(opts.startupTimeout)}${w ? `: container waiting: ${w}` : ''}`, observations);
    }
    if (outcome.kind === 'deleted') {
      gone = true;
      return critical('api-error', `probe pod was deleted by someone else before it ran on ${node}`, observations);
    }
    if (outcome.kind === 'failed') return critical(outcome.reason, `on node ${node}: ${outcome.message}`, observations);
    const start = phases().startup!;
    if (start.timed) metrics.podStartupDuration.observe(start.ms / 1000);
    const startText = start.timed ? `${secs(start.ms)}` : '(not timed)';

    const d0 = clock.now();
    await call(signal, `delete probe pod ${ns}/${name}`, () => k.core.deleteNamespacedPod({ namespace: ns, name, body: { gracePeriodSeconds: DELETE_GRACE_SECONDS, preconditions: { uid } } }));
    deleting = true; // only once the delete was accepted: a failed one is retried in the cleanup below
    const deleted = await watch.wait(() => first((e) => e.type === 'DELETED'), opts.deletionTimeout, signal);
    const all = start.timed ? { ...observations, 'startup seconds': start.ms / 1000 } : observations;
    if (!deleted) {
      const b = blind(`probe pod on ${node} not seen gone ${secs(opts.deletionTimeout)} after its deletion`);
      if (b) return { ...b, observations: all };
      return critical(
        'deletion-timeout',
        `probe pod ran on ${node} (scheduled ${schedText.replace(/^in /, '')}, running ${startText}) but is still terminating ${secs(opts.deletionTimeout)} after its deletion: the kubelet on ${node} has not confirmed it stopped`,
        all,
      );
    }
    gone = true;
    const del = phases(d0).deletion!;
    if (del.timed) metrics.podDeletionDuration.observe(del.ms / 1000);
    const gaps = watch.gaps.length;
    return {
      verdict: 'ok',
      message:
        `probe pod on ${node}: scheduled ${schedText}, running ${start.timed ? 'in ' : ''}${startText}, gone ${del.timed ? `${secs(del.ms)} after deletion` : '(not timed)'}` +
        `${reaped ? `; ${reaped} leftover probe pod(s) deleted first` : ''}` +
        `${gaps ? `; the pod watch was re-established ${gaps === 1 ? 'once' : `${gaps} times`} (${watch.gaps[0]!.error.message}), phases across the gap not timed` : ''}`,
      observations: { ...all, ...(del.timed ? { 'deletion seconds': del.ms / 1000 } : {}), reaped },
    };
  } catch (err) {
    if (err instanceof ApiCallFailed || signal.aborted) throw err;
    return critical('api-error', `watching probe pod on ${node}: ${errorText(err)}`);
  } finally {
    watch.close();
    // A pod left behind on failure is removed now if possible; the next run's reaping covers the rest.
    // A create aborted before its answer came may still have made the pod: that one goes by name
    // (this node's own, as the next run's reaping would take it), and a 404 then means it never was.
    if (!gone && !deleting && (uid || (createSent && signal.aborted))) {
      const body = uid ? { gracePeriodSeconds: 0, preconditions: { uid } } : { gracePeriodSeconds: 0 };
      const cleanup = abortable(k.core.deleteNamespacedPod({ namespace: ns, name: probePodName(node), body }), AbortSignal.timeout(CLEANUP_TIMEOUT_MS)).then(
        () => undefined,
        (err: unknown) => {
          if (!uid && (err as { code?: number }).code === 404) return;
          deps.logger.warn({ err }, 'could not delete the probe pod after a failed run; the next run will');
        },
      );
      const tracked = cleanup.finally(() => {
        if (deps.cleanup === tracked) deps.cleanup = undefined;
      });
      deps.cleanup = tracked;
      // Waited for while the run has time left; an aborted run ends now and the delete goes on.
      await settledOrAborted(tracked, signal);
    }
  }
}
