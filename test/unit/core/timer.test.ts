import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newTimer, wheel, type Timer } from '../../../src/core/timer.js';

function waitFor(pred: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (pred()) resolve();
      else if (Date.now() > until) reject(new Error('condition not met in time'));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

test('a timer fires once, not before its deadline', async () => {
  let fired = 0;
  let at = 0;
  const start = Date.now();
  const t = newTimer(() => {
    fired++;
    at = Date.now();
  });
  wheel.arm(t, 40);
  await waitFor(() => fired > 0);
  assert.ok(at - start >= 40, `fired after ${at - start} ms`);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(fired, 1);
  assert.equal(t.expire, 0);
});

test('a disarmed timer never fires and leaves the wheel at once', async () => {
  const before = wheel.size;
  let fired = 0;
  const timers = Array.from({ length: 50 }, () => newTimer(() => fired++));
  for (const t of timers) wheel.arm(t, 30);
  assert.equal(wheel.size, before + 50);
  for (const t of timers) wheel.disarm(t);
  assert.equal(wheel.size, before, 'disarmed timers are not kept referenced');
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(fired, 0);
});

test('refreshing pushes the deadline later; re-arming earlier is honoured', async () => {
  let fired = 0;
  const t = newTimer(() => fired++);
  wheel.arm(t, 30);
  const deadline = Date.now() + 120;
  // Refreshed every 10 ms for 120 ms: it must not fire meanwhile.
  while (Date.now() < deadline) {
    wheel.arm(t, 30);
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(fired, 0);
  wheel.arm(t, 5000);
  wheel.arm(t, 20);
  await waitFor(() => fired === 1, 1000);
});

test('handlers may disarm or re-arm other timers of the same slot', async () => {
  const fired: string[] = [];
  const timers: Record<string, Timer> = {};
  timers.a = newTimer(() => {
    fired.push('a');
    wheel.disarm(timers.b!);
    wheel.arm(timers.c!, 40);
  });
  timers.b = newTimer(() => fired.push('b'));
  timers.c = newTimer(() => fired.push('c'));
  // Same deadline: the three sit in one slot, a first.
  wheel.arm(timers.a, 20);
  wheel.arm(timers.b, 20);
  wheel.arm(timers.c, 20);
  await waitFor(() => fired.includes('c'), 1000);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(fired, ['a', 'c'], 'b disarmed, c fired once, later');
});

test('a handler that throws does not stop the wheel', async () => {
  let second = 0;
  const warn = process.emitWarning;
  process.emitWarning = () => {};
  try {
    wheel.arm(newTimer(() => { throw new Error('boom'); }), 10);
    wheel.arm(newTimer(() => second++), 30);
    await waitFor(() => second === 1, 1000);
  } finally {
    process.emitWarning = warn;
  }
});
