// What checking one peer's status answer costs the agent: JSON.parse plus the zod declaration
// (`localStatusAnswer`) against JSON.parse plus its hand-written twin (`localStatusCheck`), on the
// answer a real agent with the deployed probe set and k = 10 sends (about 6 KB), alternating the
// two in rounds. Run it under the shipped V8 flags, as the agent runs:
//
//   node --max-semi-space-size=1 --optimize-for-size --no-opt --import tsx bench/status-check.ts [--answers 1000] [--rounds 7]
import { parseArgs } from 'node:util';
import { localStatusCheck } from '../src/peers/status-check.ts';
import { localStatusAnswer, type WireSchema } from '../src/peers/wire.ts';
import { localStatus } from './peer-answer.ts';

const { values } = parseArgs({ options: { answers: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '7' } } });
const ANSWERS = Number(values.answers);
const ROUNDS = Number(values.rounds);

const targets = Array.from({ length: 10 }, (_, i) => `node-${String(i + 1).padStart(4, '0')}`);
// One text per answer, as they arrive from different peers.
const texts = Array.from({ length: ANSWERS }, (_, i) => JSON.stringify(localStatus(`node-${String(i).padStart(4, '0')}`, targets, new Set([targets[3]!]))));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function run(schema: WireSchema<unknown>): number {
  const kept: unknown[] = []; // held until the merge, as the fan-out holds them
  const t0 = performance.now();
  for (const text of texts) {
    const r = schema.safeParse(JSON.parse(text));
    if (!r.success) throw new Error(`the sample answer was refused: ${JSON.stringify(r.error.issues[0])}`);
    kept.push(r.data);
  }
  return ((performance.now() - t0) * 1000) / kept.length;
}

const flags = process.execArgv.filter((a) => a.startsWith('--') && a !== '--import');
console.log(`node ${process.version} ${flags.join(' ')}; ${ANSWERS} answers of ${(texts[0]!.length / 1024).toFixed(1)} KiB per run`);
/** No check at all: what JSON.parse alone costs, for reference. */
const unchecked: WireSchema<unknown> = { safeParse: (input) => ({ success: true, data: input }) };
const times = { parse: [] as number[], zod: [] as number[], hand: [] as number[] };
for (const s of [unchecked, localStatusAnswer, localStatusCheck]) run(s); // warm each once
for (let r = 0; r < ROUNDS; r++) {
  times.parse.push(run(unchecked));
  times.zod.push(run(localStatusAnswer));
  times.hand.push(run(localStatusCheck));
}
const [p, z, h] = [median(times.parse), median(times.zod), median(times.hand)];
console.log('check                      | µs per answer, median of rounds | min');
console.log(`JSON.parse alone           | ${p.toFixed(0).padStart(31)} | ${Math.min(...times.parse).toFixed(0)}`);
console.log(`JSON.parse + zod           | ${z.toFixed(0).padStart(31)} | ${Math.min(...times.zod).toFixed(0)}`);
console.log(`JSON.parse + hand-written  | ${h.toFixed(0).padStart(31)} | ${Math.min(...times.hand).toFixed(0)}`);
console.log(`the check alone, zod / hand-written: ${((z - p) / (h - p)).toFixed(1)}×`);
