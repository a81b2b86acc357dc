import type { LocalStatusReport } from '../status/local.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A plain page that links to what the agent serves; no external assets. */
export function landingPage(status: LocalStatusReport): string {
  const rows = status.probes
    .map((p) => `<tr><td>${esc(p.name)}</td><td class="${p.verdict}">${p.verdict}</td><td>${esc(p.message)}</td><td>${p.since ?? ''}</td></tr>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>vigil on ${esc(status.node)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}td,th{padding:.3em .8em;text-align:left}.ok{color:#1a7f37}.warning{color:#9a6700}.critical{color:#cf222e}.unknown{color:#666}</style></head>
<body><h1>vigil on ${esc(status.node)}: <span class="${status.verdict}">${status.verdict}</span></h1>
<table><tr><th>probe</th><th>verdict</th><th>message</th><th>since</th></tr>${rows}</table>
<p><a href="/metrics">/metrics</a> · <a href="/api/v1/status/local">/api/v1/status/local</a> · <a href="/api/v1/history/local">/api/v1/history/local</a> · <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a></p>
</body></html>`;
}
