import { worst, type ProbeResult, type Verdict } from '../verdict.ts';

export interface Problem {
  verdict: Verdict;
  reason: string;
  text: string;
}

/** One result from several findings: the worst verdict, its reason, every finding in the message. */
export function resultOf(problems: readonly Problem[], okMessage: () => string, observations?: ProbeResult['observations']): ProbeResult {
  const obs = observations ? { observations } : {};
  if (problems.length === 0) return { verdict: 'ok', message: okMessage(), ...obs };
  const verdict = worst(problems.map((p) => p.verdict));
  return { verdict, reason: problems.find((p) => p.verdict === verdict)!.reason, message: problems.map((p) => p.text).join('; '), ...obs };
}

/** Milliseconds, rounded, for messages: "412 ms". */
export const ms = (x: number) => `${Math.round(x)} ms`;
