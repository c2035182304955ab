// Connection retries and redispatch through sluice: `retries`, `option redispatch [interval]`, with
// a server that refuses connections next to a working one. What happened is read from the traffic
// log (%ST status, %rc retries with '+' when redispatched, %b/%s, %ts termination state), and the
// same configuration runs on haproxy 2.6 for comparison.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { freePort, rawRequest, which, type ProcHandle } from '../../harness/index.js';
import { deadAddr, haproxyFor, originFor, sluiceFor, until } from './util.js';

const LOG_LINE = /^\d{3} \+?\d+ be\/\S+ \S+$/;

function config(port: number, backend: string[]): string {
  return (
    'global\n    log stdout format raw local0\n' +
    'defaults\n    mode http\n    log global\n    log-format "%ST %rc %b/%s %ts"\n' +
    '    timeout connect 300ms\n    timeout client 5s\n    timeout server 5s\n' +
    `frontend fe\n    bind 127.0.0.1:${port}\n    default_backend be\n` +
    `backend be\n${backend.map((l) => `    ${l}\n`).join('')}`
  );
}

/** Sends `n` GETs on fresh connections; returns their statuses and the log lines they produced. */
async function drive(proc: ProcHandle, port: number, n: number): Promise<{ statuses: number[]; logs: string[] }> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 5000 });
    statuses.push(r.responses[0]?.status ?? 0);
  }
  const logs = (): string[] => proc.lines().map((l) => l.text).filter((l) => LOG_LINE.test(l));
  // Generous: on a loaded 2-core CI machine the reference once took over 3 s to write its line.
  try {
    await until(() => logs().length >= n, 10000, `${n} log lines`);
  } catch (e) {
    throw new Error(`${(e as Error).message}; statuses ${statuses.join(',')}\n${proc.describe()}`);
  }
  return { statuses, logs: logs() };
}

/** Runs the scenario on sluice, and on haproxy when installed; returns both results. */
async function scenario(t: TestContext, backend: (dead: string, good: number) => string[], n: number) {
  const origin = await originFor(t, 'good');
  const dead = await deadAddr();
  const lines = backend(dead, origin.port);
  const sp = await freePort();
  const sluice = await drive(await sluiceFor(t, config(sp, lines), [sp]), sp, n);
  let haproxy: typeof sluice | null = null;
  if (which('haproxy')) {
    const hp = await freePort();
    haproxy = await drive(await haproxyFor(t, config(hp, lines), [hp]), hp, n);
  }
  return { sluice, haproxy, origin };
}

test('option redispatch: with one refusing and one working server, every request ends 200', async (t) => {
  const { sluice, haproxy, origin } = await scenario(
    t,
    (dead, good) => ['option redispatch', 'retries 2', `server bad ${dead}`, `server good 127.0.0.1:${good}`],
    4,
  );
  assert.deepEqual(sluice.statuses, [200, 200, 200, 200]);
  for (const l of sluice.logs) assert.match(l, /^200 (\+\d+|0) be\/good --$/);
  assert.ok(sluice.logs.some((l) => l.startsWith('200 +')), 'redispatched requests show +N retries');
  assert.equal(origin.requestCount, haproxy ? 8 : 4);
  if (haproxy) assert.deepEqual(haproxy.statuses, sluice.statuses);
});

test(
  'round robin with several active servers redispatches at the first retry, as HAProxy does',
  async (t) => {
    const { sluice, haproxy } = await scenario(
      t,
      (dead, good) => ['option redispatch', 'retries 3', `server bad ${dead}`, `server good 127.0.0.1:${good}`],
      2,
    );
    for (const l of sluice.logs) assert.match(l, /^200 (\+1|0) be\/good --$/);
    if (haproxy) assert.deepEqual(sluice.logs, haproxy.logs);
  },
);

test('without redispatch, requests sent to the refusing server end 503 after the retries', async (t) => {
  const { sluice, haproxy } = await scenario(
    t,
    (dead, good) => ['retries 2', `server bad ${dead}`, `server good 127.0.0.1:${good}`],
    4,
  );
  assert.deepEqual(sluice.statuses, [503, 200, 503, 200]);
  assert.deepEqual(sluice.logs, ['503 2 be/bad SC', '200 0 be/good --', '503 2 be/bad SC', '200 0 be/good --']);
  if (haproxy) assert.deepEqual(sluice.logs, haproxy.logs);
});

test('only a refusing server and no redispatch: 503 after exactly `retries` retries', async (t) => {
  const { sluice, haproxy } = await scenario(t, (dead) => ['retries 2', `server bad ${dead}`], 2);
  assert.deepEqual(sluice.statuses, [503, 503]);
  assert.deepEqual(sluice.logs, ['503 2 be/bad SC', '503 2 be/bad SC']);
  if (haproxy) assert.deepEqual(sluice.logs, haproxy.logs);
});

test('retries 0: a single connection attempt', async (t) => {
  const { sluice, haproxy } = await scenario(t, (dead) => ['retries 0', `server bad ${dead}`], 1);
  assert.deepEqual(sluice.statuses, [503]);
  assert.deepEqual(sluice.logs, ['503 0 be/bad SC']);
  if (haproxy) assert.deepEqual(sluice.logs, haproxy.logs);
});

test('redispatch between two refusing servers still ends 503 once the retries are spent', async (t) => {
  const { sluice, haproxy } = await scenario(
    t,
    (dead) => ['option redispatch', 'retries 3', `server bad ${dead}`, `server bad2 ${dead}`],
    2,
  );
  assert.deepEqual(sluice.statuses, [503, 503]);
  for (const l of sluice.logs) assert.match(l, /^503 \+3 be\/bad2? SC$/);
  if (haproxy) assert.deepEqual(sluice.logs, haproxy.logs);
});

test('option redispatch 1: redispatch on every retry', async (t) => {
  const { sluice, haproxy } = await scenario(
    t,
    (dead, good) => ['option redispatch 1', 'retries 3', `server bad ${dead}`, `server good 127.0.0.1:${good}`],
    2,
  );
  assert.deepEqual(sluice.statuses, [200, 200]);
  for (const l of sluice.logs) assert.match(l, /^200 (\+1|0) be\/good --$/);
  if (haproxy) assert.deepEqual(sluice.logs, haproxy.logs);
});
