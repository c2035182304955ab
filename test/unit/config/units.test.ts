import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSize, parseTime } from '../../../src/config/index.js';
import { atol, parseTimeValue } from '../../../src/config/units.js';

test('parseTime reads HAProxy time values in milliseconds', () => {
  const cases: Array<[string, number | undefined]> = [
    ['0', 0],
    ['250', 250],
    ['250ms', 250],
    ['5s', 5000],
    ['2m', 120000],
    ['1h', 3600000],
    ['1d', 86400000],
    ['1us', 1],
    ['1500us', 2],
    ['1000us', 1],
    ['24d', 2073600000],
    ['25d', undefined],
    ['2147483647', 2147483647],
    ['2147483648', undefined],
    ['', undefined],
    ['abc', undefined],
    ['-1', undefined],
    ['5x', undefined],
    ['5sx', undefined],
    ['1.5s', undefined],
  ];
  for (const [s, v] of cases) assert.equal(parseTime(s), v, s);
});

test('parseTimeValue reports overflow, underflow and bad characters', () => {
  assert.deepEqual(parseTimeValue('25d'), { ok: false, error: 'overflow' });
  assert.deepEqual(parseTimeValue('0us'), { ok: true, value: 0 });
  assert.deepEqual(parseTimeValue('10x'), { ok: false, error: 'char', char: 'x' });
  assert.deepEqual(parseTimeValue('10sx'), { ok: true, value: 10000, trailing: 'x' });
  assert.deepEqual(parseTimeValue('90', 's'), { ok: true, value: 90 });
  assert.deepEqual(parseTimeValue('2m', 's'), { ok: true, value: 120 });
  assert.deepEqual(parseTimeValue('1ms', 's'), { ok: true, value: 1 });
});

test('parseSize reads sizes with k, m and g suffixes', () => {
  const cases: Array<[string, number | undefined]> = [
    ['0', 0],
    ['16384', 16384],
    ['16k', 16384],
    ['16K', 16384],
    ['1m', 1048576],
    ['2g', 2147483648],
    ['3g', 3221225472],
    ['4g', undefined],
    ['4294967295', 4294967295],
    ['4294967296', undefined],
    ['1kb', undefined],
    ['1x', undefined],
    ['', undefined],
    ['k', undefined],
  ];
  for (const [s, v] of cases) assert.equal(parseSize(s), v, s);
});

test('atol mimics C', () => {
  assert.equal(atol('42'), 42);
  assert.equal(atol(' -7x'), -7);
  assert.equal(atol('10k'), 10);
  assert.equal(atol('abc'), 0);
});
