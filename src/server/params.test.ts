import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHistoryQuery, parseTime } from './params.ts';

const now = Date.UTC(2026, 10, 25, 12, 0, 0);

describe('history query parameters', () => {
  it('accepts RFC 3339, Unix seconds and durations back from now', () => {
    assert.equal(parseTime('since', '2026-11-25T11:00:00Z', now), now - 3_600_000);
    assert.equal(parseTime('since', '1764068400', now), 1764068400_000);
    assert.equal(parseTime('since', '1h', now), now - 3_600_000);
  });

  it('defaults the page size and reads the cursor', () => {
    assert.deepEqual(parseHistoryQuery({}, now), { limit: 100 });
    assert.deepEqual(parseHistoryQuery({ probe: 'etcd', limit: '5', cursor: '42', since: '30m' }, now), { probe: 'etcd', limit: 5, before: 42, since: now - 1_800_000 });
  });

  const bad: [Record<string, unknown>, string][] = [
    [{ since: 'yesterday' }, 'since: expected an RFC 3339 time, Unix seconds or a duration such as 1h, got "yesterday"'],
    [{ limit: '0' }, 'limit: expected a whole number from 1 to 1000, got "0"'],
    [{ limit: '5000' }, 'limit: expected a whole number from 1 to 1000, got "5000"'],
    [{ limit: ['1', '2'] }, 'limit: give it once, as a plain value'],
    [{ cursor: 'abc' }, 'cursor: expected the "next" value of a previous page, got "abc"'],
    [{ probe: '<script>' }, 'probe: expected a probe name or peer/<node>/<pod|host>, got "<script>"'],
    [{ probe: 'peer/bravo/overlay' }, 'probe: expected a probe name or peer/<node>/<pod|host>, got "peer/bravo/overlay"'],
    [{ since: '1h', until: '2h' }, 'since must be before until'],
    [{ sort: 'asc' }, 'unknown parameter "sort" (known: since, until, probe, limit, cursor)'],
  ];
  for (const [q, message] of bad) {
    it(`rejects ${JSON.stringify(q)}`, () => {
      assert.throws(() => parseHistoryQuery(q, now), { name: 'BadRequest', message });
    });
  }
});
