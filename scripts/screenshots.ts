// Regenerates docs/images/status-page-{healthy,partition,node-down}.png: runs the status page's
// loopback-cluster test (five real agents, headless Chromium), which saves a full-page screenshot
// of each state it has just checked.
//   node --import tsx scripts/screenshots.ts
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, 'docs/images');
mkdirSync(out, { recursive: true });
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', path.join(root, 'test/status-page-cluster.test.ts')], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, VIGIL_SCREENSHOT_DIR: out },
});
process.exit(r.status ?? 1);
