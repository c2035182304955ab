// Failure mode 1 of design.md, at scale: 40 real HTTP/2 servers (nghttpd processes and h2c
// frontends of one haproxy) checked over HTTP/2 every second with `timeout check 1s` while h2load
// saturates the proxy with HTTP/2 traffic spread over them by roundrobin for 20 s. No server may
// be marked DOWN, each keeps its share of the traffic, and every check connection ends as the
// connect rule says: a FIN with `linger`, a reset without it (HAProxy's default, see
// haproxy-semantics.md §1.7).
//
// To see how each check connection ended, the checks do not go to the servers directly: each
// server has a check `port` where a relay of this process (test/harness/conn-watch.ts) accepts
// the connection, passes it to the real server, and records its accept time and whether the
// proxy closed it with a FIN or a reset. Traffic goes straight to the servers.
//
// The accept times also tell how late checks come: the gap between two consecutive checks of a
// server minus `inter` (the next check is due `inter` after the end of the previous one, so this
// is the previous check's duration plus any scheduling delay). It is measured idle and under
// load and reported, not asserted. haproxy 2.6 runs the same configuration as the reference,
// with a shorter load to fit the time budget.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import {
  freePorts,
  h2load,
  makeTempDir,
  requireBinary,
  skipUnless,
  startHaproxy,
  startProcess,
  startSluice,
  type ProcHandle,
} from '../harness/index.js';
import { lateness, quantile, startWatchedServer, type WatchedServer } from '../harness/conn-watch.js';
import { cpuMs } from '../harness/leaks.js';

const SERVERS = 40;
/** How many of them are nghttpd processes; the others are h2c frontends of one haproxy. */
const NGHTTPD = 20;
const INTER = 1000;
const tools = skipUnless('nghttpd', 'haproxy', 'h2load');

interface Pool {
  ports: number[];
  procs: ProcHandle[];
}

/** Starts the 40 HTTP/2 servers, each answering 200 to GET / (traffic and checks alike). */
async function startServers(): Promise<Pool> {
  const ports = await freePorts(SERVERS);
  const dir = makeTempDir('sluice-h2load-servers-');
  fs.writeFileSync(path.join(dir, 'index.html'), 'ok\n');
  const nghttpd = requireBinary('nghttpd');
  const procs = await Promise.all(
    ports.slice(0, NGHTTPD).map((p) =>
      startProcess('nghttpd', [nghttpd, '--no-tls', '-a', '127.0.0.1', '-d', dir, String(p)], { waitPorts: [p], dir }),
    ),
  );
  const fronts = ports
    .slice(NGHTTPD)
    .map((p, i) => `frontend h2s${i}\n    bind 127.0.0.1:${p} proto h2\n    http-request return status 200 content-type text/plain string ok\n`)
    .join('');
  procs.push(
    await startHaproxy(
      `global\n    nbthread 1\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 30s\n    timeout server 30s\n${fronts}`,
      { waitPorts: ports.slice(NGHTTPD) },
    ),
  );
  return { ports, procs };
}

function proxyConfig(fe: number, servers: number[], relays: WatchedServer[], linger: boolean): string {
  const lines = servers.map((p, i) => `    server s${i} 127.0.0.1:${p} proto h2 check port ${relays[i]!.port} inter ${INTER}`);
  // A Host header: without one haproxy 2.6 sends no :authority and nghttpd refuses the stream.
  return `global
    log stdout format raw local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 1s
frontend fe
    bind 127.0.0.1:${fe}
    log-format "srv=%s st=%ST"
    default_backend be
backend be
    balance roundrobin
    option httpchk
    option log-health-checks
    http-check connect proto h2${linger ? ' linger' : ''}
    http-check send meth GET uri / ver HTTP/1.1 hdr host x
    http-check expect status 200
${lines.join('\n')}
`;
}

const ms = (x: number): string => (Number.isNaN(x) ? '-' : `${Math.round(x)} ms`);

interface Phases {
  idleMs: number;
  loadMs: number;
}

async function run(t: TestContext, pool: Pool, kind: 'sluice' | 'haproxy', linger: boolean, phases: Phases): Promise<void> {
  const relays = await Promise.all(pool.ports.map((p) => startWatchedServer({ forwardTo: p })));
  t.after(() => Promise.all(relays.map((r) => r.stop())));
  const [fe] = (await freePorts(1)) as [number];
  const start = kind === 'sluice' ? startSluice : startHaproxy;
  const p = await start(proxyConfig(fe, pool.ports, relays, linger), { waitPorts: [fe] });
  t.after(() => p.stop());
  const t0 = Date.now();

  // Idle: the first checks are spread over one interval, then every server is checked each second.
  await new Promise((r) => setTimeout(r, phases.idleMs));
  const loadStart = Date.now();
  const cpu0 = cpuMs(p.pid);
  const mark = p.mark();
  const load = await h2load(
    ['-D', String(Math.round(phases.loadMs / 1000)), '-c', '32', '-m', '8', '-t', '1', `http://127.0.0.1:${fe}/`],
    { timeoutMs: phases.loadMs + 20000 },
  );
  const loadEnd = Date.now();
  const cpuLoad = (100 * (cpuMs(p.pid) - cpu0)) / (loadEnd - loadStart);
  // Let the checks that were due at the end run before judging.
  await new Promise((r) => setTimeout(r, 1500));
  const stopAt = Date.now();
  const lines = p.lines().map((l) => l.text);
  await p.stop();

  // Traffic per server, from the log's %s.
  const perServer = new Map<string, number>();
  const statuses = new Map<string, number>();
  for (const l of lines.slice(mark)) {
    const m = /^srv=(\S+) st=(\d+)$/.exec(l);
    if (m === null) continue;
    perServer.set(m[1]!, (perServer.get(m[1]!) ?? 0) + 1);
    statuses.set(m[2]!, (statuses.get(m[2]!) ?? 0) + 1);
  }
  const total = [...perServer.values()].reduce((a, b) => a + b, 0);
  const fair = total / SERVERS;
  const shares = pool.ports.map((_, i) => perServer.get(`s${i}`) ?? 0);

  // How the check connections ended: only those closed before the proxy was told to stop.
  const ends = { fin: 0, rst: 0, other: 0 };
  let checks = 0;
  for (const r of relays) {
    for (const c of r.conns) {
      if (c.closedAt === 0 || c.closedAt >= stopAt) continue;
      checks++;
      if (c.end === 'fin') ends.fin++;
      else if (c.end === 'rst') ends.rst++;
      else ends.other++;
    }
  }
  const idle: number[] = [];
  const busy: number[] = [];
  // The part of the lateness that is not the previous check's duration: from the close of one
  // check connection (as the relay saw it) to the next accept, minus inter.
  const busyDelay: number[] = [];
  for (const r of relays) {
    const times = r.conns.map((c) => c.at);
    idle.push(...lateness(times, INTER, t0, loadStart));
    busy.push(...lateness(times, INTER, loadStart, loadEnd));
    for (let i = 1; i < r.conns.length; i++) {
      const a = r.conns[i - 1]!;
      const b = r.conns[i]!;
      if (a.at >= loadStart && b.at < loadEnd && a.closedAt !== 0) busyDelay.push(b.at - a.closedAt - INTER);
    }
  }
  const down = lines.filter((l) => / is DOWN/.test(l) && !l.startsWith('['));
  const failed = lines.filter((l) => /^Health check for server \S+ failed/.test(l));
  const name = `${kind}${linger ? ' linger' : ''}`;
  t.diagnostic(
    `${name}: h2load ${load.succeeded} succeeded, ${load.failed} failed, ${load.errored} errored in ${loadEnd - loadStart} ms ` +
      `(${Math.round((load.succeeded * 1000) / (loadEnd - loadStart))} req/s, the proxy at ${Math.round(cpuLoad)}% CPU); logged ${total}, statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
  );
  t.diagnostic(`${name}: requests per server min ${Math.min(...shares)} max ${Math.max(...shares)} (fair ${Math.round(fair)})`);
  t.diagnostic(`${name}: ${checks} check connections: ${ends.fin} FIN, ${ends.rst} RST, ${ends.other} other; ${failed.length} failed-check lines, ${down.length} DOWN lines`);
  t.diagnostic(
    `${name}: check lateness (gap - inter) idle: p99 ${ms(quantile(idle, 0.99))} max ${ms(Math.max(...idle))} over ${idle.length} gaps; ` +
      `saturated: p99 ${ms(quantile(busy, 0.99))} max ${ms(Math.max(...busy))} over ${busy.length} gaps ` +
      `(from the previous check's close: p99 ${ms(quantile(busyDelay, 0.99))} max ${ms(Math.max(...busyDelay))})`,
  );
  for (const l of failed.slice(0, 5)) t.diagnostic(`${name}: ${l}`);

  assert.deepEqual(down, [], `${name}: servers marked DOWN under load`);
  assert.ok(load.succeeded > 0, `${name}: h2load made no request\n${load.stdout}\n${load.stderr}`);
  assert.ok(total > SERVERS * 20, `${name}: only ${total} requests logged`);
  assert.deepEqual([...statuses.keys()], ['200'], `${name}: statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  // roundrobin gives each server 1/40 of the requests; a wide band for the few that fail over.
  shares.forEach((n, i) => {
    assert.ok(n >= fair * 0.7 && n <= fair * 1.3, `${name}: s${i} got ${n} requests, fair share ${Math.round(fair)}`);
  });
  // Every server was checked through the whole run, about once a second.
  const span = stopAt - t0;
  relays.forEach((r, i) => {
    assert.ok(r.conns.length >= Math.floor(span / INTER / 2), `${name}: s${i} checked ${r.conns.length} times in ${span} ms`);
  });
  assert.ok(checks >= SERVERS * Math.floor(span / INTER / 2), `${name}: ${checks} checks`);
  if (linger) assert.deepEqual(ends, { fin: checks, rst: 0, other: 0 }, `${name}: every check connection closes with a FIN`);
  else assert.deepEqual(ends, { fin: 0, rst: checks, other: 0 }, `${name}: every check connection closes with a reset`);
}

describe('HTTP/2 checks of 40 servers every second while HTTP/2 traffic saturates the proxy', { skip: tools }, () => {
  let pool: Pool;
  before(async () => {
    pool = await startServers();
  });
  after(() => Promise.all(pool?.procs.map((p) => p.stop()) ?? []));

  const SLUICE: Phases = { idleMs: 3500, loadMs: 20000 };
  // The reference, shorter: the whole file must stay within the suite's budget.
  const HAPROXY: Phases = { idleMs: 2500, loadMs: 5000 };
  for (const linger of [false, true]) {
    const how = linger ? 'linger: checks close with a FIN' : 'no linger: checks close with a reset';
    test(`sluice, ${how}; no server DOWN, each keeps 1/40 of the traffic`, { timeout: 60000 }, (t) => run(t, pool, 'sluice', linger, SLUICE));
    test(`haproxy 2.6, ${how} [reference]`, { timeout: 40000 }, (t) => run(t, pool, 'haproxy', linger, HAPROXY));
  }
});
