// systeminformation's memory module on its own (src/probes/node.ts): its index loads every module
// of the package (CPU, network, Docker, Wi-Fi, printers...) and the node probe reads memory only.
declare module 'systeminformation/lib/memory.js' {
  import type { Systeminformation } from 'systeminformation';
  export function mem(): Promise<Systeminformation.MemData>;
}
