// Load through HTTP/2 servers that drop connections at random (the load test of failure mode 3 in
// design.md): three chaos servers (harness/h2-chaos.ts: connections destroyed between responses or
// in the middle of them, GOAWAY, REFUSED_STREAM, INTERNAL_ERROR, 503, responses cut, connections
// closed after N streams) behind the proxy with `http-reuse always`, `retry-on
// all-retryable-errors`, `retries 3` and `option redispatch`. h2load, an HTTP/1.1 keep-alive loop
// and an HTTP/2 loop run at the same time. Then:
// - the proxy is still running and printed no internal error;
// - h2load finished every request (no stream left open), no request of the loops hung and none
//   waited for `timeout server` (504 in the log);
// - every GET succeeded, except those the servers broke after their response had started (no proxy
//   can retry a response it already forwarded) and a small slack for requests whose four attempts
//   were all hit (see SLACK below);
// - every successful response is whole (the loops compare each body; h2load's data byte count
//   must cover its successes);
// - once the load is over no stream is left open at the servers, and after a graceful stop
//   (SIGUSR1) the proxy exits with 0 and every server connection ends.
// The same scenario runs on haproxy 2.6 as a reference: it must stay up, finish and close its
// connections; its failures are reported, not asserted (2.6 does not retry a request whose server
// connection died, #2061, fixed in 2.8, and passes responses cut by the server on as complete).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  bodyPattern,
  freePort,
  h2load,
  skipUnless,
  startHaproxy,
  startSluice,
  type H2Response,
  type HttpResponse,
  type ProcHandle,
} from '../../harness/index.js';
import { startChaosPeer, type ChaosPeer, type ChaosRates } from '../../harness/h2-chaos.js';
import { describeTally, h1Loop, h2Loop, h2loadCounts, type LoopTally, type Verdict } from '../../harness/client-loops.js';

type Kind = 'sluice' | 'haproxy';

// Override with CHAOS_SEED=n to replay or explore; each server gets seed + its index.
const SEED = Number(process.env.CHAOS_SEED ?? 7);
/**
 * Per stream. A destroyed connection takes every stream waiting on it (some 25 under this load,
 * all clients sharing few server connections with `http-reuse always`), a GOAWAY the streams after
 * it: together with the refusals, resets and 503s, about 7 % of the attempts fail in a way a proxy
 * can retry. A request then fails all four attempts with a probability around 0.07^4, 2.4e-5:
 * next to nothing over 3600 requests.
 */
const RATES: ChaosRates = { destroy: 0.001, crash: 0.0005, goaway: 0.002, refuse: 0.01, internal: 0.005, status503: 0.005, cut: 0.001 };
const H2LOAD_N = 3000;
const H2LOAD_SIZE = 3000;
/**
 * Failures allowed beyond the responses the servers broke: 0.2 % of the requests (at least 3).
 * Attempts are not independent (the retries of one dropped connection go out together), so this
 * is well above the estimate of 2.4e-5 per request, and still a tiny fraction.
 */
const SLACK = 0.002;

function config(port: number, peers: ChaosPeer[]): string {
  return `global
    nbthread 1
    log stdout format raw local0
defaults
    mode http
    log global
    log-format "%ST %rc %b/%s %ts"
    timeout connect 200ms
    timeout client 10s
    timeout server 4s
    retries 3
    option redispatch
    http-reuse always
    retry-on all-retryable-errors
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
${peers.map((p, i) => `    server s${i} 127.0.0.1:${p.port} proto h2\n`).join('')}`;
}

/** A response that ended as complete but does not carry the bytes sent: a cut passed on as whole. */
const NOT_WHOLE = 'complete but not whole: ';

/** The body `size=n` sends: status 200 and exactly those bytes. */
function wholeH1(r: HttpResponse, n: number): Verdict {
  if (r.status !== 200) return `status ${r.status}`;
  if (r.body.length !== n) return `${NOT_WHOLE}${r.body.length} of ${n} bytes`;
  return r.body.equals(bodyPattern(n)) ? true : `${NOT_WHOLE}wrong bytes`;
}

function wholeH2(r: H2Response, n: number): Verdict {
  if (r.status !== 200) return `status ${r.status} (rst ${r.rstCode})`;
  // A reset is how a response cut short must reach an HTTP/2 client: a failure, not a lie.
  if (!r.ended || r.rstCode !== 0) return `200 then reset (rst ${r.rstCode})`;
  if (r.body.length !== n) return `${NOT_WHOLE}${r.body.length} of ${n} bytes`;
  return r.body.equals(bodyPattern(n)) ? true : `${NOT_WHOLE}wrong bytes`;
}

const notWhole = (t: LoopTally): number => [...t.reasons].filter(([k]) => k.startsWith(NOT_WHOLE)).reduce((a, [, v]) => a + v, 0);

const H1_SIZES = [0, 100, 3000, 20000];
const H2_SIZES = [0, 1000, 17000];

async function scenario(t: TestContext, kind: Kind): Promise<void> {
  const strict = kind === 'sluice';
  const peers: ChaosPeer[] = [];
  t.after(() => Promise.all(peers.map((p) => p.close())));
  for (let i = 0; i < 3; i++) peers.push(await startChaosPeer({ seed: SEED + i, maxDelayMs: 4, closeAfter: 150, ...RATES }));
  const port = await freePort();
  const proc: ProcHandle = await (kind === 'sluice' ? startSluice : startHaproxy)(config(port, peers), { waitPorts: [port] });
  t.after(() => proc.stop());

  let h2loadDone = false;
  const loopOpts = { port, maxCount: 1500, maxMs: 12000, minCount: 300, until: () => h2loadDone, timeoutMs: 8000 };
  const h1 = h1Loop({ ...loopOpts, workers: 2 }, (i) => {
    const size = H1_SIZES[i % 4]!;
    return { path: `/?size=${size}${(i >> 2) & 1 ? '&cl=1' : ''}&h1=${i}` };
  }, (r, i) => wholeH1(r, H1_SIZES[i % 4]!));
  const h2 = h2Loop({ ...loopOpts, workers: 4 }, (i) => {
    const size = H2_SIZES[i % 3]!;
    return { path: `/?size=${size}${(i >> 2) & 1 ? '&cl=1' : ''}&h2=${i}` };
  }, (r, i) => wholeH2(r, H2_SIZES[i % 3]!));
  const url = `http://127.0.0.1:${port}/?size=${H2LOAD_SIZE}`;
  const hl = await h2load(['-n', String(H2LOAD_N), '-c', '8', '-m', '10', url], { timeoutMs: 20000 });
  h2loadDone = true;
  const [t1, t2] = await Promise.all([h1, h2]);
  const c = h2loadCounts(hl.stdout);

  const broken = peers.reduce((a, p) => a + p.cut + p.atRisk, 0);
  const total = H2LOAD_N + t1.sent + t2.sent;
  const failures = Math.max(0, c.failed) + t1.failed + t2.failed;
  const allowed = broken + Math.max(3, Math.ceil(total * SLACK));
  const logged = proc.lines().map((l) => /^(\d{3}) \+?(\d+) be\//.exec(l.text));
  const retried = logged.reduce((a, m) => a + (m ? Number(m[2]) : 0), 0);
  // The servers never keep a stream waiting longer than 2 s: a 504 is a stream the proxy lost track of.
  const timedOut = logged.filter((m) => m?.[1] === '504').length;
  const summary = hl.stdout.split('\n').find((l) => l.startsWith('requests:'));
  const report = [
    `${kind}: ${total} requests, ${failures} failed (allowed ${allowed}: ${broken} broken by the servers after their ` +
      `response started + slack), ${retried} retries logged, ${timedOut} 504`,
    `h2load: ${summary ?? `no summary (exit ${hl.exitCode}) ${hl.stderr.slice(0, 300)}`} data=${c.dataBytes}`,
    describeTally('HTTP/1.1 loop', t1),
    describeTally('HTTP/2 loop', t2),
    ...peers.map((p) => p.describe()),
  ];
  for (const l of report) t.diagnostic(l);
  const ctx = report.join('\n');

  // Still up, nothing thrown.
  assert.equal(proc.exited, null, `the proxy exited during the load\n${ctx}\n${proc.describe()}`);
  const internal = proc.lines().filter((l) => /internal error|uncaught|fatal/i.test(l.text));
  assert.deepEqual(internal.map((l) => l.text), [], 'no internal error in the output');
  // Every request finished: no stream left open on the client side, nothing hung.
  assert.equal(hl.exitCode, 0, `h2load exit code\n${ctx}\n${hl.stderr}`);
  assert.equal(c.done, H2LOAD_N, `h2load finished every request\n${ctx}`);
  assert.ok(retried > 0, `the servers' failures made the proxy retry\n${ctx}`);
  if (strict) {
    assert.equal(t1.hung + t2.hung, 0, `no request hung\n${ctx}`);
    assert.equal(timedOut, 0, `no request waited for 'timeout server'\n${ctx}`);
    assert.ok(failures <= allowed, `every GET but a tiny fraction succeeded\n${ctx}`);
    assert.equal(notWhole(t1) + notWhole(t2), 0, `no response cut short was passed on as whole\n${ctx}`);
    assert.ok(c.dataBytes >= c.succeeded * H2LOAD_SIZE, `h2load's successes carried their whole bodies\n${ctx}`);
    if (c.failed === 0) assert.equal(c.dataBytes, H2LOAD_N * H2LOAD_SIZE, ctx);
  } else {
    // The reference's known weaknesses are reported, not asserted.
    const whole = c.dataBytes >= c.succeeded * H2LOAD_SIZE && notWhole(t1) + notWhole(t2) === 0;
    t.diagnostic(`${kind}: within the bound: ${failures <= allowed}; successes whole: ${whole}; hung: ${t1.hung + t2.hung + timedOut}`);
  }

  // Nothing left open at the servers once the load is over.
  for (const p of peers) {
    await p.waitFor((x) => [...x.openStreams.values()].every((n) => n === 0), 'no stream open at the server', 5000);
  }
  // A graceful stop ends every server connection, and the proxy exits with 0.
  proc.signal('SIGUSR1');
  const exit = await proc.waitExit(10000);
  assert.deepEqual(exit, { code: 0, signal: null }, `graceful stop\n${proc.describe().slice(-2000)}`);
  for (const p of peers) await p.waitFor((x) => x.sessionsOpen === 0, 'every connection from the proxy closed', 5000);
}

test(
  'sluice: h2load, an HTTP/1.1 and an HTTP/2 loop through HTTP/2 servers that drop connections: no crash, every GET answered whole',
  { timeout: 35000, skip: skipUnless('h2load') },
  (t) => scenario(t, 'sluice'),
);

test(
  'haproxy 2.6 (reference): the same load stays up, finishes and closes its connections',
  { timeout: 35000, skip: skipUnless('haproxy', 'h2load') },
  (t) => scenario(t, 'haproxy'),
);
