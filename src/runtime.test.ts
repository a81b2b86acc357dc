import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MIN_NODE, builtin, runtimeProblem } from './runtime.ts';

void describe('runtime', () => {
  it('names an older Node and where it is, and accepts the oldest supported and newer ones', () => {
    assert.equal(runtimeProblem('v20.20.2', '/usr/bin/node'), `vigil needs Node.js ${MIN_NODE} or newer; /usr/bin/node is v20.20.2`);
    assert.equal(runtimeProblem('v24.10.0', '/x/node'), `vigil needs Node.js ${MIN_NODE} or newer; /x/node is v24.10.0`);
    assert.equal(runtimeProblem(`v${MIN_NODE}`, '/x/node'), undefined);
    assert.equal(runtimeProblem('v24.22.3', '/x/node'), undefined);
    assert.equal(runtimeProblem('v26.1.0', '/x/node'), undefined);
  });

  it("says what package.json's engines say", () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
    assert.equal(pkg.engines.node, `>=${MIN_NODE.replace(/\.0$/, '')}`);
  });

  it('the suite runs on a supported runtime, with node:sqlite', () => {
    assert.equal(runtimeProblem(process.version, process.execPath), undefined);
    assert.equal(typeof builtin('node:sqlite').DatabaseSync, 'function');
  });
});
