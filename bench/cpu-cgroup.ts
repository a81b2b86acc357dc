// A CPU cgroup with a quota, as a pod's CPU limit gives one: cgroup v1 (cpu.cfs_quota_us over
// cpu.cfs_period_us) or v2 (cpu.max) where that is what the machine has. Needs root.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { enterPrefix, removeCgroup } from '../test/support/memory-cgroup.ts';

export interface CpuCgroup {
  dir: string;
  /** Command prefix that moves itself into the cgroup, then execs the rest (the PID stays the same). */
  prefix: string[];
  /** Periods in which the cgroup used up its quota and waited (throttled). */
  throttled(): number;
  remove(): Promise<void>;
}

/** Makes a cgroup limited to `millicores` (500 for a 500m limit), on v2 when the machine has it, else on v1's cpu controller. */
export function createCpuCgroup(name: string, millicores: number): CpuCgroup {
  const period = 100_000;
  const quota = Math.round((period * millicores) / 1000);
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const root = v2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/cpu';
  if (!existsSync(root)) throw new Error(`no CPU cgroup controller at ${root}`);
  const dir = path.join(root, name);
  mkdirSync(dir);
  if (v2) {
    if (!readFileSync(path.join(root, 'cgroup.subtree_control'), 'utf8').includes('cpu')) writeFileSync(path.join(root, 'cgroup.subtree_control'), '+cpu');
    writeFileSync(path.join(dir, 'cpu.max'), `${quota} ${period}`);
  } else {
    writeFileSync(path.join(dir, 'cpu.cfs_period_us'), String(period));
    writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(quota));
  }
  const stat = () => readFileSync(path.join(dir, 'cpu.stat'), 'utf8');
  return {
    dir,
    prefix: enterPrefix(dir),
    throttled: () => Number(/^nr_throttled (\d+)$/m.exec(stat())?.[1] ?? NaN),
    remove: () => removeCgroup(dir),
  };
}
