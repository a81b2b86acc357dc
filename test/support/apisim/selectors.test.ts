import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';

void test('label selectors: equality, inequality, sets and existence, as the API server reads them', () => {
  const labels = { app: 'vigil', 'vigil.io/node': 'a', tier: 'agent' };
  const yes = ['app=vigil', 'app==vigil', 'app!=other', 'app in (x,vigil)', 'tier notin (db)', 'vigil.io/node', '!missing', 'app=vigil,vigil.io/node=a', ''];
  const no = ['app=other', 'app!=vigil', 'app in (x, y)', 'tier notin (agent)', 'missing', '!app', 'app=vigil,vigil.io/node=b'];
  for (const s of yes) assert.equal(matchLabels(parseLabelSelector(s), labels), true, s);
  for (const s of no) assert.equal(matchLabels(parseLabelSelector(s), labels), false, s);
  assert.equal(matchLabels(parseLabelSelector('app!=x'), undefined), true, 'a missing label is "not equal"');
});

void test('malformed label selectors are rejected with the parse error', () => {
  assert.throws(() => parseLabelSelector('app=vigil,=x'), /unable to parse requirement/);
  assert.throws(() => parseLabelSelector('a b c'), /unable to parse requirement/);
  assert.throws(() => parseLabelSelector('app=bad value'), /unable to parse requirement/);
});

void test('field selectors support the fields the real server supports per resource, and nothing else', () => {
  const pod = { metadata: { name: 'p', namespace: 'vigil' }, spec: { nodeName: 'a' }, status: { phase: 'Running' } };
  assert.equal(matchFields(parseFieldSelector('spec.nodeName=a,status.phase=Running', 'pods'), 'pods', pod), true);
  assert.equal(matchFields(parseFieldSelector('status.phase!=Running', 'pods'), 'pods', pod), false);
  assert.equal(matchFields(parseFieldSelector('metadata.name==p', 'pods'), 'pods', pod), true);
  assert.equal(matchFields(parseFieldSelector('spec.unschedulable=true', 'nodes'), 'nodes', { metadata: { name: 'n' }, spec: { unschedulable: true } }), true);
  assert.throws(() => parseFieldSelector('spec.hostname=a', 'pods'), /field label not supported: spec.hostname/);
  assert.throws(() => parseFieldSelector('spec.nodeName', 'pods'), /can't understand/);
});
