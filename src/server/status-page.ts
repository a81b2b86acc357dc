import { readFileSync } from 'node:fs';
import express from 'express';

/** The page's static files: hand-written browser modules and CSS, next to this file (copied to dist by the build). */
const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'model.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

// Same-origin only: the page must work in an offline cluster and must not run injected markup.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function statusPageHtml(node: string): string {
  const n = esc(node);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>vigil on ${n}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="ui/style.css"><script type="module" src="ui/app.js"></script></head>
<body data-node="${n}">
<header><h1>vigil <span class="on">on <span class="node">${n}</span></span></h1>
<nav><a href="metrics">/metrics</a><a href="api/v1/status">/api/v1/status</a><a href="api/v1/status/local">/api/v1/status/local</a><a href="api/v1/history">/api/v1/history</a><a href="api/v1/history/local">/api/v1/history/local</a><a href="healthz">/healthz</a><a href="readyz">/readyz</a></nav>
<span id="updated" aria-live="polite"></span></header>
<noscript><p>This page needs JavaScript. The same information is at <a href="api/v1/status">/api/v1/status</a>.</p></noscript>
<main>
<form id="auth" class="auth" hidden><label>This agent's API needs the peer token (kept in this tab only): <input id="auth-token" type="password" autocomplete="off" required></label> <button type="submit">Use token</button> <span id="auth-hint" class="error"></span></form>
<section id="verdict" class="verdict v-unknown" aria-live="polite"><h2>Loading…</h2></section>
<section id="probes"><h2>Probes by node</h2><div id="probe-matrix"></div><div id="probe-detail" aria-live="polite"></div></section>
<section id="reachability"><h2>Reachability</h2><p id="reach-note" class="legend"></p><div class="reach-grid"><div id="reach-pod"></div><div id="reach-host"></div></div><p id="reach-legend" class="legend"></p></section>
<section id="timeline"><h2>Recent changes</h2>
<div class="filters"><label>node <select id="filter-node"></select></label><label>probe <select id="filter-probe"></select></label></div>
<p id="timeline-error" class="error"></p>
<table class="list"><thead><tr><th scope="col">time</th><th scope="col">node</th><th scope="col">probe</th><th scope="col">change</th><th scope="col">message</th></tr></thead><tbody id="timeline-body"></tbody></table></section>
<section id="local"></section>
</main></body></html>`;
}

function loadAssets(dir: URL): { assets: Map<string, { type: string; body: Buffer }>; missing: string[] } {
  const assets = new Map<string, { type: string; body: Buffer }>();
  const missing: string[] = [];
  for (const [file, type] of Object.entries(ASSETS)) {
    const url = new URL(file, dir);
    try {
      assets.set(file, { type, body: readFileSync(url) });
    } catch {
      missing.push(url.pathname);
    }
  }
  return { assets, missing };
}

/** The status page at / and its assets under /ui/. */
export function statusPageRouter(opts: { node: string; assetDir?: URL }): express.Router {
  const { assets, missing } = loadAssets(opts.assetDir ?? new URL('./page/', import.meta.url));
  const router = express.Router();
  router.get('/', (_req, res) => {
    // A build that left the page's files out must not take the agent down: the API still works.
    if (missing.length > 0) {
      res
        .status(500)
        .type('text/plain')
        .send(`the status page's files are missing (${missing.join(', ')}); the build copies them from src/server/page (npm run build)\n`);
      return;
    }
    res.set({ 'content-security-policy': CSP, 'cache-control': 'no-cache' }).type('html').send(statusPageHtml(opts.node));
  });
  router.get('/ui/:file', (req, res, next) => {
    const asset = assets.get(req.params.file);
    if (!asset) {
      next();
      return;
    }
    res.set({ 'content-type': asset.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }).send(asset.body);
  });
  return router;
}
