import { z } from 'zod';

/**
 * Schemas for what peers send. Anything a peer says is checked here before use: an answer that
 * does not fit marks that peer bad, it never reaches the merge.
 */

/** What the peer client needs of a schema: zod's safeParse, which a hand-written check can give too. */
export interface WireSchema<T> {
  safeParse(input: unknown): { success: true; data: T } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

const text = (max: number) => z.string().max(max);
const nodeName = text(253).min(1);
const time = text(40);
const verdict = z.enum(['ok', 'warning', 'critical', 'unknown']);

export const pingAnswer = z.object({ node: nodeName, time: z.number().finite(), hostIP: text(45).nullable().optional() });
export type PingAnswer = z.output<typeof pingAnswer>;

const observation = z.object({
  peer: nodeName,
  network: z.enum(['pod', 'host']),
  up: z.boolean(),
  rttSeconds: z.number().finite().nonnegative().nullable(),
  clockOffsetSeconds: z.number().finite().nullable(),
  lastChecked: time,
  since: time.optional(),
  error: text(500).nullable(),
  failure: z.enum(['refused', 'timeout', 'unreachable', 'http', 'bad']).nullable().optional(),
});

/** A probe's facts: JSON three levels deep below its keys (scalars, arrays of up to 64, objects), each probe's own schema checks the shape where they are read. */
const factScalar = z.union([z.number(), text(500), z.boolean(), z.null()]);
const factLevel = <T extends z.ZodType>(inner: T) => z.union([factScalar, z.array(inner).max(64), z.record(text(200), inner)]);
const fact = factLevel(factLevel(factLevel(factScalar)));

const probeStatus = z.object({
  name: text(63),
  verdict,
  reason: text(63).nullable(),
  message: text(2000),
  since: time.nullable(),
  lastRun: time.nullable(),
  durationSeconds: z.number().finite().nullable(),
  skipped: z.boolean(),
  observations: z.record(text(200), z.union([z.number(), text(500), z.boolean(), z.null()])).nullable(),
  facts: z.record(text(200), fact).nullable().optional(),
});

/** The declaration; the fan-out checks answers with its hand-written twin, `localStatusCheck` (status-check.ts). */
export const localStatusAnswer = z.object({
  node: nodeName,
  verdict,
  time,
  probes: z.array(probeStatus).max(200),
  peers: z.array(observation).max(2000).default([]),
});
export type LocalStatusAnswer = z.output<typeof localStatusAnswer>;

const historyEvent = z.object({
  id: z.number().int().positive(),
  time,
  probe: text(63),
  from: text(20),
  to: text(20),
  reason: text(63).nullable(),
  message: text(2000),
});

export const historyAnswer = z.object({
  node: nodeName,
  events: z.array(historyEvent).max(1000),
  next: text(20).nullable(),
});
export type HistoryAnswer = z.output<typeof historyAnswer>;
