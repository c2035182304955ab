// Failure mode #3 (design.md): reusing HTTP/2 server connections (`http-reuse always`) together with
// layer-7 retries and reloads crashed the proxy; a retried request must start again from a clean
// state. Three HTTP/2 servers fail requests on purpose (harness/h2-chaos.ts): every fourth request
// has its first attempt refused, reset, answered 503, lost with its connection or refused by a
// GOAWAY (those two take the other streams of the connection along). The proxy has `http-reuse
// always`, `retry-on all-retryable-errors`, `retries 3`, `option redispatch`, `option forwardfor`
// and adds a header.
// While HTTP/1.1 and HTTP/2 clients send GETs and PUTs, the proxy is reloaded three times in a row
// (`-f cfg -sf <old pid>`: the new process binds the same port and asks the old one to stop
// gracefully, as `haproxy -sf`). Then:
// - no process crashed: each old one exits with 0 once drained, none printed an internal error,
//   the last one stops gracefully with 0;
// - every request succeeded: a client sends a request again only when the protocol says it was not
//   processed (a stream refused or beyond a GOAWAY, a reused HTTP/1.1 connection closed before any
//   byte), as browsers do; a connection refused or reset while opening is a failure;
// - every attempt the servers saw is clean: one X-Forwarded-For (the client's address), one added
//   header, the request's own id and path, its body once (a prefix of it when the attempt was cut
//   short, all of it when answered);
// - each generation served requests, and retries did happen.
// The haproxy 2.6.12 run is `todo`: it shows the incident itself (an old process dies of SIGSEGV
// while draining, in about half of the runs).
// h2load is not used here: it does not open a new connection after a GOAWAY, so a reload ends its
// clients (a limit of the tool, not of the proxy); drop-load.test.ts has it.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  bodyPattern,
  canConnect,
  freePort,
  skipUnless,
  startHaproxy,
  startSluice,
  type ProcHandle,
  type StartOptions,
} from '../harness/index.js';
import { startChaosPeer, type ChaosAction, type ChaosPeer } from '../harness/h2-chaos.js';
import type { H2PeerRequest } from '../harness/h2-peers.js';
import { describeTally, h1Loop, h2Loop, newTally, type Verdict } from '../harness/client-loops.js';

type Kind = 'sluice' | 'haproxy';

// The seed only spreads the answers' delays here; CHAOS_SEED=n overrides it.
const SEED = Number(process.env.CHAOS_SEED ?? 3);
const RELOADS = 3;
/** Attempts through each generation before it is replaced. */
const PER_GEN = 400;
/**
 * How the first attempt of the k-th failed request fails (every fourth request has one): mostly
 * refused, 503 or reset, and now and then its connection is lost or sent a GOAWAY, which also
 * takes the other streams on that connection (a request hit that way on all four attempts would
 * fail, so these stay rare enough to make that vanishingly unlikely).
 */
function planned(k: number): ChaosAction {
  if (k % 28 === 9) return 'destroy';
  if (k % 28 === 23) return 'goaway';
  return (['refuse', 'status503', 'internal'] as const)[k % 3]!;
}

/** The method and body size of request i: PUTs small enough for HAProxy's layer-7 retry buffer. */
const SHAPES: Array<[string, number]> = [
  ['GET', 0],
  ['PUT', 16],
  ['PUT', 1000],
  ['GET', 0],
  ['PUT', 8000],
];

// The incident itself, on the reference: with `retry-on` and `http-reuse always` (not with
// `http-reuse never`, nor without `retry-on`), an old haproxy 2.6.12 process draining after -sf
// dies of SIGSEGV in about half of the runs.
const HAPROXY_CRASH = 'haproxy 2.6.12 often crashes (SIGSEGV) while an old process drains after -sf: failure mode 3';

function config(port: number, gen: number, peers: ChaosPeer[]): string {
  return `global
    nbthread 1
defaults
    mode http
    timeout connect 200ms
    timeout client 10s
    timeout server 4s
    retries 3
    option redispatch
    option forwardfor
    http-reuse always
    retry-on all-retryable-errors
frontend fe
    bind 127.0.0.1:${port}
    http-request add-header x-gen ${gen}
    default_backend be
backend be
${peers.map((p, i) => `    server s${i} 127.0.0.1:${p.port} proto h2\n`).join('')}`;
}

/** The body of request `id`: its id repeated, so that a body sent twice or mixed shows. */
function bodyOf(id: string, size: number): Buffer {
  return size === 0 ? Buffer.alloc(0) : Buffer.alloc(size, `<${id}>`);
}

function values(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}

/** What is wrong with one attempt as a server received it, or null. */
function uncleanAttempt(r: H2PeerRequest): string | null {
  const ids = values(r.rawHeaders, 'x-req');
  if (ids.length !== 1) return `${ids.length} x-req fields`;
  const id = ids[0]!;
  const m = /[?&]id=([^&]+)&n=(\d+)/.exec(r.path);
  if (!m || m[1] !== id) return `${id}: path ${r.path} is another request's`;
  const [method, size] = SHAPES[Number(m[2]) % SHAPES.length]!;
  if (r.method !== method) return `${id}: method ${r.method}`;
  const xff = values(r.rawHeaders, 'x-forwarded-for');
  if (xff.length !== 1 || xff[0] !== '127.0.0.1') return `${id}: x-forwarded-for ${JSON.stringify(xff)}`;
  const gen = values(r.rawHeaders, 'x-gen');
  if (gen.length !== 1) return `${id}: x-gen ${JSON.stringify(gen)}`;
  const body = bodyOf(id, size);
  if (!body.subarray(0, r.body.length).equals(r.body)) return `${id}: body of ${r.body.length} bytes is not a prefix of its own ${size}`;
  // Answered (closed without a reset): the whole body arrived.
  if (r.ended && r.rstCode === 0 && r.body.length !== size) return `${id}: answered with ${r.body.length} of ${size} body bytes`;
  return null;
}

async function start(kind: Kind, cfg: string, opts: StartOptions): Promise<ProcHandle> {
  return (kind === 'sluice' ? startSluice : startHaproxy)(cfg, opts);
}

async function scenario(t: TestContext, kind: Kind): Promise<void> {
  const peers: ChaosPeer[] = [];
  t.after(() => Promise.all(peers.map((p) => p.close())));
  const attempts = new Map<string, number>();
  for (let i = 0; i < 3; i++) {
    peers.push(
      await startChaosPeer({
        seed: SEED + i,
        maxDelayMs: 3,
        // Only first attempts fail on purpose, each in a way a proxy can retry: every request
        // must come through.
        plan: (ps) => {
          const id = String(ps.headers['x-req'] ?? '');
          const n = (attempts.get(id) ?? 0) + 1;
          attempts.set(id, n);
          const fail = ps.query.get('fail');
          return n === 1 && fail !== null ? (fail as ChaosAction) : 'answer';
        },
      }),
    );
  }
  const port = await freePort();
  const procs: ProcHandle[] = [];
  t.after(() => Promise.all(procs.map((p) => p.stop())));
  procs.push(await start(kind, config(port, 1, peers), { waitPorts: [port] }));

  let reloading = true;
  const loopOpts = { port, maxCount: 4000, maxMs: 15000, minCount: 200, until: () => !reloading, timeoutMs: 8000, clientRetries: 2 };
  const shape = (i: number, proto: string) => {
    const [method, size] = SHAPES[i % SHAPES.length]!;
    const id = `${proto}-${i}`;
    const fail = i % 4 === 3 ? `&fail=${planned(i >> 2)}` : '';
    return { method, id, body: bodyOf(id, size), path: `/?size=100&id=${id}&n=${i}${fail}` };
  };
  const okOf = (status: number, body: Buffer): Verdict =>
    status !== 200 ? `status ${status}` : body.equals(bodyPattern(100)) ? true : `200 with ${body.length} bytes, not the 100 sent`;
  const live = { h1: newTally(), h2: newTally() };
  const progress = (): string =>
    [describeTally('HTTP/1.1 loop', live.h1), describeTally('HTTP/2 loop', live.h2), ...peers.map((p) => p.describe())].join('\n');
  const h1 = h1Loop({ ...loopOpts, workers: 3, tally: live.h1 }, (i) => {
    const s = shape(i, 'h1');
    return { method: s.method, path: s.path, headers: { 'x-req': s.id }, ...(s.method === 'PUT' ? { body: s.body } : {}) };
  }, (r) => okOf(r.status, r.body));
  const h2 = h2Loop({ ...loopOpts, workers: 6, tally: live.h2 }, (i) => {
    const s = shape(i, 'h2');
    const headers: Array<[string, string]> = [['x-req', s.id]];
    if (s.method === 'PUT') headers.push(['content-length', String(s.body.length)]);
    return { method: s.method, path: s.path, headers, ...(s.method === 'PUT' ? { body: s.body } : {}) };
  }, (r) => (r.ended && r.rstCode === 0 ? okOf(r.status, r.body) : `status ${r.status} reset ${r.rstCode}`));

  const exits: string[] = [];
  // Attempts the servers received through generation g.
  const through = (g: number): number =>
    peers.reduce((a, p) => a + p.requests.filter((r) => values(r.rawHeaders, 'x-gen')[0] === String(g)).length, 0);
  try {
    for (let gen = 2; gen <= RELOADS + 1; gen++) {
      // Traffic through the current generation first.
      await peers[0]!
        .waitFor(() => through(gen - 1) >= PER_GEN, `${PER_GEN} attempts through generation ${gen - 1}`, 4000)
        .catch((e: Error) => assert.fail(`${e.message}\n${progress()}\n${procs[procs.length - 1]!.describe().slice(-2000)}`));
      const old = procs[procs.length - 1]!;
      const next = await start(kind, config(port, gen, peers), { args: ['-sf', String(old.pid)] });
      procs.push(next);
      // The old one exits once drained; a new one that refuses to start fails the test at once.
      const refused = next.waitExit().then((e) =>
        Promise.reject(new Error(`generation ${gen} exited (${JSON.stringify(e)}) instead of taking over\n${next.describe()}`)),
      );
      refused.catch(() => {}); // reported by the race when it comes first, ignored when it exits later
      const exit = await Promise.race([old.waitExit(8000), refused]);
      exits.push(`generation ${gen - 1} (pid ${old.pid}): ${JSON.stringify(exit)}`);
      const drained = `generation ${gen - 1} exits with 0 after draining\n${old.describe().slice(-3000)}`;
      assert.deepEqual(exit, { code: 0, signal: null }, drained);
      assert.equal(next.exited, null, `generation ${gen} runs\n${next.describe()}`);
      assert.ok(await canConnect(port), 'the port accepts connections after the reload');
    }
    await peers[0]!
      .waitFor(() => through(RELOADS + 1) >= PER_GEN, `${PER_GEN} attempts through the last generation`, 4000)
      .catch((e: Error) => assert.fail(`${e.message}\n${progress()}`));
  } finally {
    reloading = false;
  }
  const [t1, t2] = await Promise.all([h1, h2]);

  const records = peers.flatMap((p) => p.requests);
  const unclean = records.map(uncleanAttempt).filter((x): x is string => x !== null);
  const perId = new Map<string, number>();
  for (const r of records) {
    const id = values(r.rawHeaders, 'x-req')[0] ?? '';
    perId.set(id, (perId.get(id) ?? 0) + 1);
  }
  const retried = [...perId.values()].filter((n) => n > 1).length;
  const gens = new Map<string, number>();
  for (const r of records) for (const g of values(r.rawHeaders, 'x-gen')) gens.set(g, (gens.get(g) ?? 0) + 1);
  const report = [
    `${kind}: ${records.length} attempts at the servers for ${perId.size} requests, ${retried} requests sent more than once, ` +
      `by generation ${JSON.stringify(Object.fromEntries(gens))}`,
    ...exits,
    describeTally('HTTP/1.1 loop', t1),
    describeTally('HTTP/2 loop', t2),
    ...peers.map((p) => p.describe()),
    ...(unclean.length ? [`unclean attempts (${unclean.length}): ${unclean.slice(0, 10).join('; ')}`] : []),
  ];
  for (const l of report) t.diagnostic(l);
  const ctx = report.join('\n');

  for (const p of procs) {
    const internal = p.lines().filter((l) => /internal error|uncaught|fatal/i.test(l.text));
    assert.deepEqual(internal.map((l) => l.text), [], `pid ${p.pid}: no internal error`);
  }
  assert.equal(t1.failed + t2.failed, 0, `every request succeeded\n${ctx}`);
  assert.deepEqual(unclean, [], `every attempt reached the server clean\n${ctx}`);
  assert.ok(retried > 0, `some requests were retried\n${ctx}`);
  for (let g = 1; g <= RELOADS + 1; g++) assert.ok((gens.get(String(g)) ?? 0) > 0, `generation ${g} served requests\n${ctx}`);

  const last = procs[procs.length - 1]!;
  last.signal('SIGUSR1');
  assert.deepEqual(await last.waitExit(10000), { code: 0, signal: null }, 'the last generation stops gracefully');
  for (const p of peers) await p.waitFor((x) => x.sessionsOpen === 0, 'every connection from the proxy closed', 5000);
}

test(
  'sluice: three reloads under HTTP/1.1 and HTTP/2 load, http-reuse always, layer-7 retries: no crash, every request served, every retry clean',
  { timeout: 35000 },
  (t) => scenario(t, 'sluice'),
);

test(
  'haproxy 2.6 (reference): the same reloads under the same load',
  { timeout: 35000, skip: skipUnless('haproxy'), todo: HAPROXY_CRASH },
  (t) => scenario(t, 'haproxy'),
);
