#!/usr/bin/env node
// The status page's browser files are served as they are written; tsc does not copy them, so the
// build does.
import { cpSync, mkdirSync } from 'node:fs';

mkdirSync('dist/server/page', { recursive: true });
for (const f of ['app.js', 'model.js', 'style.css']) cpSync(`src/server/page/${f}`, `dist/server/page/${f}`);
