import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareIds } from '../../dist/esm/index.js';
import { channelProblem, isAfter } from '../../dist/esm/ids.js';
import { backoffDelay } from '../../dist/esm/backoff.js';

test('compareIds orders like byte-wise UTF-8', () => {
  const cases = [
    { name: 'equal', a: '0001', b: '0001', want: 0 },
    { name: 'shorter prefix first', a: '0001', b: '00010', want: -1 },
    { name: 'digits', a: '0009', b: '0010', want: -1 },
    { name: 'case', a: 'B', b: 'a', want: -1 },
    { name: 'astral after private use', a: '\u{1F600}', b: '\uE000', want: 1 },
    { name: 'bmp before astral', a: '\uFFFF', b: '\u{10000}', want: -1 },
  ];
  for (const tc of cases) {
    const got = Math.sign(compareIds(tc.a, tc.b));
    assert.equal(got, tc.want, tc.name);
    const bytes = Math.sign(Buffer.compare(Buffer.from(tc.a), Buffer.from(tc.b)));
    assert.equal(got, bytes, `${tc.name}: agrees with Buffer.compare`);
  }
});

test('isAfter drops ids at or before the last one', () => {
  assert.equal(isAfter('0002', undefined), true);
  assert.equal(isAfter('0002', '0001'), true);
  assert.equal(isAfter('0002', '0002'), false);
  assert.equal(isAfter('0001', '0002'), false);
});

test('channelProblem accepts the protocol alphabet and names what is wrong', () => {
  for (const ok of ['orders:user-123', 'chat:room-42', 'a', 'A.b_c@d=e,f', 'x'.repeat(128)]) {
    assert.equal(channelProblem(ok), undefined, ok);
  }
  assert.match(channelProblem(''), /empty/);
  assert.match(channelProblem('x'.repeat(131)), /131 characters; at most 128/);
  assert.match(channelProblem('a b'), /contains " "/);
  assert.match(channelProblem(42), /must be a string/);
});

test('backoffDelay grows, caps and stays within its jitter band', () => {
  for (let attempt = 1; attempt <= 12; attempt++) {
    const d = Math.min(30000, 1000 * 2 ** (attempt - 1));
    assert.equal(backoffDelay(attempt, 1000, 30000, () => 0), Math.round(d / 2), `attempt ${attempt} low`);
    assert.equal(backoffDelay(attempt, 1000, 30000, () => 1), d, `attempt ${attempt} high`);
  }
  assert.equal(backoffDelay(1000, 1000, 30000, () => 1), 30000);
});
