#!/usr/bin/env node
// Builds the shipped artifact into dist/: one minified ESM bundle of the agent (dist/vigil.mjs,
// executable, its shebang carrying the V8 flags) and the files the bundle reads at run time (etcd's
// protobuf definitions, the status page's scripts and styles). No native addon: the history uses
// Node's built-in SQLite, so dist/ is the same on every architecture.
// The package's `bin` and the image both run dist/vigil.mjs, so the flags below live only here.
// Type checking is `npm run typecheck`; esbuild only strips types.
import { build } from 'esbuild';
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * V8 flags the agent runs with (see docs/benchmarks.md): a small young generation, size-optimised
 * code, and neither of V8's optimising compilers: TurboFan (`--no-opt`) nor, on Node 22 and later
 * where it is on by default, Maglev (`--no-maglev`). Their code and work memory cost every agent
 * 4–8 MiB (TurboFan, Node 20) and 22 MiB under load (Maglev, Node 24), and the agent's JavaScript
 * is never hot enough to need them: on Node 24 without both, a scrape costs what it did on Node 20.
 */
export const NODE_FLAGS = ['--max-semi-space-size=1', '--optimize-for-size', '--no-opt', '--no-maglev'];

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const pkgDir = (name) => path.dirname(require.resolve(`${name}/package.json`, { paths: [root] }));

// etcd3 loads its .proto files from `${__dirname}/../proto` when first imported.
const etcdProtos = {
  name: 'etcd3-protos-beside-bundle',
  setup(b) {
    b.onLoad({ filter: /etcd3[\\/]lib[\\/]connection-pool\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const from = '`${__dirname}/../proto/rpc.proto`';
      if (!text.includes(from)) throw new Error(`${args.path}: the proto path changed; update scripts/build.mjs`);
      return { contents: text.replace(from, '`${__vigilDir}/proto/rpc.proto`'), loader: 'js' };
    });
  },
};

/** Builds into dist (default: the repository's dist/, which is emptied first); returns the bundle's path. */
export async function buildArtifact(dist = path.join(root, 'dist')) {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const out = path.join(dist, 'vigil.mjs');
  const result = await build({
    entryPoints: { vigil: path.join(root, 'src/cli/main.ts') },
    outdir: dist,
    outExtension: { '.js': '.mjs' },
    // What the agent imports lazily (the Kubernetes client, etcd3) stays in chunks of its own, read
    // only by an agent that uses it. Chunks sit beside vigil.mjs: the banner's __vigilDir is theirs too.
    splitting: true,
    chunkNames: 'vigil-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    // Stack traces and the logs name functions; keep them readable.
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [etcdProtos],
    banner: {
      js: [
        'import { createRequire as __vigilCreateRequire } from "node:module";',
        'import { fileURLToPath as __vigilFileURLToPath } from "node:url";',
        'const __vigilRequire = __vigilCreateRequire(import.meta.url);',
        'const require = __vigilRequire;',
        'const __vigilDir = __vigilFileURLToPath(new URL(".", import.meta.url));',
      ].join(''),
    },
  });
  if (result.errors.length > 0) throw new Error('esbuild failed');

  // The entry's own `#!/usr/bin/env node` becomes the launcher line with the flags.
  const body = readFileSync(out, 'utf8').replace(/^#![^\n]*\n/, '');
  writeFileSync(out, `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}\n${body}`);
  chmodSync(out, 0o755);

  cpSync(path.join(pkgDir('etcd3'), 'proto'), path.join(dist, 'proto'), { recursive: true });
  cpSync(path.join(root, 'src/server/page'), path.join(dist, 'page'), {
    recursive: true,
    filter: (f) => !f.endsWith('.ts'),
  });
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // `node scripts/build.mjs [--outdir <dir>]`: tests build into a directory of their own.
  const at = process.argv.indexOf('--outdir');
  buildArtifact(at > 0 ? path.resolve(process.argv[at + 1]) : undefined).then(
    (out) => console.log(`built ${path.relative(root, out)}`),
    (err) => {
      console.error(`build: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
