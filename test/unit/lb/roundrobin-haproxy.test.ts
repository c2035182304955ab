// `balance roundrobin` checked against the real haproxy 2.6: the same weights and the same events
// (weight changes and servers going down and up through the runtime API, full servers, a
// redispatch that avoids the previous server) must give the same sequence of servers in haproxy
// as in a pure simulation of our algorithm. Requests are sequential, each on a fresh connection,
// so that the only load a server carries is the one a step holds on purpose.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  HttpClient,
  freePorts,
  makeTempDir,
  request,
  skipUnless,
  startHaproxy,
  startOrigin,
  type Origin,
  type ProcHandle,
} from '../../harness/index.js';
import { RoundRobin } from '../../../src/lb/roundrobin.js';
import { FakeServer, makeServers } from './fake.js';

/** One full range of HAProxy's fwrr is (sum of user weights) x 16 picks. */
function range(weights: readonly number[]): number {
  return 16 * weights.reduce((a, b) => a + b, 0);
}

/** The sequential weight sets: name, weights, number of requests (at least two full ranges). */
const SETS: ReadonlyArray<{ name: string; weights: number[] }> = [
  { name: 'w111', weights: [1, 1, 1] },
  { name: 'w321', weights: [3, 2, 1] },
  { name: 'w511', weights: [5, 1, 1] },
  { name: 'w10111', weights: [10, 1, 1, 1] },
  { name: 'w2357', weights: [2, 3, 5, 7] },
  { name: 'wmix8', weights: [3, 1, 4, 1, 5, 9, 2, 6] },
  { name: 'w256_1', weights: [256, 1] },
];

const DYN_WEIGHTS = [3, 2, 1, 4];
const FULL_WEIGHTS = [2, 1, 1];
const REDISP_WEIGHTS = [4, 2, 1];
/**
 * In the redispatch backend this server points at a closed port. Being the heaviest, it is often
 * due again right after its own failure, which is when `avoid` changes the outcome.
 */
const DEAD = 's1';

function serverLines(weights: readonly number[], extra = '', dead?: string): string {
  return weights
    .map((w, i) => {
      const name = `s${i + 1}`;
      const port = name === dead ? '{{closed}}' : `{{${name}}}`;
      return `    server ${name} 127.0.0.1:${port} weight ${w}${extra}\n`;
    })
    .join('');
}

function buildConfig(dir: string, ports: Record<string, number>, values: Record<string, number>): string {
  let cfg = `
global
    stats socket ${path.join(dir, 'admin.sock')} level admin
    # One thread: the runtime API then sees a stream's end all at once (see settle()).
    nbthread 1

defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout queue 5s
`;
  const listen = (name: string, body: string): void => {
    cfg += `\nlisten ${name}\n    bind 127.0.0.1:${ports[name]}\n    balance roundrobin\n${body}`;
  };
  for (const s of SETS) listen(s.name, serverLines(s.weights));
  listen('dyn', serverLines(DYN_WEIGHTS));
  listen('full', serverLines(FULL_WEIGHTS, ' maxconn 1'));
  listen('redisp', `    retries 1\n    option redispatch\n${serverLines(REDISP_WEIGHTS, '', DEAD)}`);
  return cfg.replace(/\{\{([a-z0-9]+)\}\}/g, (_m, k: string) => String(values[k]));
}

/** A fresh algorithm over fake servers s1..sN, added in declaration order as the Backend does. */
function simulate(weights: readonly number[]): { lb: RoundRobin; srvs: FakeServer[] } {
  const srvs = makeServers(weights);
  const lb = new RoundRobin();
  for (const s of srvs) lb.add(s);
  return { lb, srvs };
}

function pickName(lb: RoundRobin): string {
  return lb.pick(undefined, null)?.name ?? 'null';
}

/** Where the first difference is, with some context, for a readable failure. */
function firstDiff(a: readonly string[], b: readonly string[]): string {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      const from = Math.max(0, i - 6);
      return `at ${i}: sluice ${a.slice(from, i + 6).join(' ')} / haproxy ${b.slice(from, i + 6).join(' ')}`;
    }
  }
  return 'none';
}

function assertSame(sim: readonly string[], real: readonly string[], what: string): void {
  assert.equal(sim.length, real.length);
  assert.ok(sim.join(' ') === real.join(' '), `${what}: first difference ${firstDiff(sim, real)}`);
}

/** Sends one admin command on the runtime API socket; resolves with its answer. */
function runtime(sock: string, cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ path: sock });
    let out = '';
    c.setEncoding('utf8');
    c.on('connect', () => c.write(`${cmd}\n`));
    c.on('data', (d: string) => (out += d));
    c.on('end', () => resolve(out));
    c.on('error', reject);
  });
}

/** Current sessions per server of backend `px`, from `show stat`. */
async function currentSessions(sock: string, px: string): Promise<Map<string, number>> {
  const csv = await runtime(sock, 'show stat');
  const cols = csv.split('\n', 1)[0]!.replace(/^# /, '').split(',');
  const scur = cols.indexOf('scur');
  const out = new Map<string, number>();
  for (const line of csv.split('\n').slice(1)) {
    const f = line.split(',');
    if (f[0] !== px || f[1] === 'FRONTEND' || f[1] === 'BACKEND' || f[1] === undefined) continue;
    out.set(f[1], Number(f[scur]));
  }
  return out;
}

/**
 * Resolves once haproxy counts `total` sessions on the servers of `px`. A client may see its
 * response a moment before haproxy releases the server's slot; fullness must be settled first.
 */
async function settle(sock: string, px: string, total: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const m = await currentSessions(sock, px);
    if ([...m.values()].reduce((a, b) => a + b, 0) === total) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${px}: the servers never settled at ${total} sessions`);
}

describe('roundrobin picks the servers haproxy 2.6 picks', { skip: skipUnless('haproxy') }, () => {
  const origins: Origin[] = [];
  let haproxy: ProcHandle | undefined;
  let sock = '';
  const port: Record<string, number> = {};

  before(async () => {
    for (let i = 1; i <= 8; i++) origins.push(await startOrigin(`s${i}`));
    const names = [...SETS.map((s) => s.name), 'dyn', 'full', 'redisp'];
    const ports = await freePorts(names.length + 1);
    names.forEach((n, i) => (port[n] = ports[i]!));
    const values: Record<string, number> = { closed: ports[names.length]! };
    for (const o of origins) values[o.name] = o.port;
    const dir = makeTempDir('sluice-rr-');
    sock = path.join(dir, 'admin.sock');
    haproxy = await startHaproxy(buildConfig(dir, port, values), { dir, waitPorts: names.map((n) => port[n]!) });
  });

  after(async () => {
    await haproxy?.stop();
    for (const o of origins) await o.close();
  });

  /** One request on a fresh connection through listener `name`: the server that answered. */
  async function ask(name: string, pathQuery = '/'): Promise<string> {
    const r = await request(port[name]!, { path: pathQuery, timeoutMs: 5000 });
    assert.equal(r.status, 200, `status ${r.status} from ${name}`);
    return r.header('x-server') ?? '?';
  }

  async function askMany(name: string, n: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await ask(name));
    return out;
  }

  for (const set of SETS) {
    test(`weights ${set.weights.join(',')}: the same sequence over two full ranges`, async () => {
      const k = 2 * range(set.weights);
      const real = await askMany(set.name, k);
      const { lb } = simulate(set.weights);
      const sim = Array.from({ length: k }, () => pickName(lb));
      assertSame(sim, real, `weights ${set.weights}`);
    });
  }

  test('weight changes, servers going down and up: the same sequence', async () => {
    const { lb, srvs } = simulate(DYN_WEIGHTS);
    const byName = new Map(srvs.map((s) => [s.name, s]));
    const sim: string[] = [];
    const real: string[] = [];
    // Steps: [requests] or [runtime command, its effect on the simulation].
    const steps: Array<number | [string, () => void]> = [
      // Before any request and after one: changes to servers not placed yet.
      ['set weight dyn/s3 2', () => setWeight('s3', 2)],
      1,
      ['set weight dyn/s4 6', () => setWeight('s4', 6)],
      37,
      ['set weight dyn/s2 7', () => setWeight('s2', 7)],
      53,
      ['disable server dyn/s1', () => lb.remove(byName.get('s1')!)],
      29,
      ['set weight dyn/s4 1', () => setWeight('s4', 1)],
      41,
      ['enable server dyn/s1', () => lb.add(byName.get('s1')!)],
      66,
      ['set weight dyn/s3 0', () => setWeight('s3', 0)],
      25,
      ['set weight dyn/s3 5', () => setWeight('s3', 5)],
      ['set weight dyn/s1 1', () => setWeight('s1', 1)],
      80,
      ['disable server dyn/s2', () => lb.remove(byName.get('s2')!)],
      ['disable server dyn/s4', () => lb.remove(byName.get('s4')!)],
      17,
      ['enable server dyn/s4', () => lb.add(byName.get('s4')!)],
      ['enable server dyn/s2', () => lb.add(byName.get('s2')!)],
      300,
    ];
    function setWeight(name: string, w: number): void {
      const s = byName.get(name)!;
      s.eweight = w;
      lb.weightChanged(s);
    }
    for (const step of steps) {
      if (typeof step === 'number') {
        real.push(...(await askMany('dyn', step)));
        for (let i = 0; i < step; i++) sim.push(pickName(lb));
      } else {
        const answer = await runtime(sock, step[0]);
        assert.equal(answer.trim(), '', `${step[0]}: ${answer}`);
        step[1]();
        real.push(`<${step[0]}>`);
        sim.push(`<${step[0]}>`);
      }
    }
    assertSame(sim, real, 'dynamic events');
  });

  test('a full server loses its turns and comes back: the same sequence', async () => {
    const { lb, srvs } = simulate(FULL_WEIGHTS);
    for (const s of srvs) s.maxconn = 1;
    const sim: string[] = [];
    const real: string[] = [];
    /** Resolves when the next request reaches any origin. */
    const nextRequest = (): Promise<void> =>
      new Promise((resolve) => {
        const hit = (): void => {
          for (const o of origins) o.off('request', hit);
          resolve();
        };
        for (const o of origins) o.on('request', hit);
      });
    for (let round = 0; round < 5; round++) {
      // One request held by its server (which is then full), quick ones meanwhile, then release.
      const held = lb.pick(undefined, null) as FakeServer;
      held.conns++;
      sim.push(`[${held.name}]`);
      for (let i = 0; i < 5 + round; i++) sim.push(pickName(lb));
      held.conns--;
      for (let i = 0; i < 3; i++) sim.push(pickName(lb));

      const reached = nextRequest();
      const c = await HttpClient.connect(port.full!);
      try {
        let done = false;
        const answer = c.request({ path: '/?delay=700', timeoutMs: 5000 }).then((r) => {
          done = true;
          return r;
        });
        await reached;
        await settle(sock, 'full', 1);
        const quick: string[] = [];
        for (let i = 0; i < 5 + round; i++) {
          quick.push(await ask('full'));
          await settle(sock, 'full', 1);
        }
        // The premise: the held request was still being served during the quick ones.
        assert.equal(done, false, 'the held request ended too early');
        const r = await answer;
        real.push(`[${r.header('x-server')}]`, ...quick);
      } finally {
        c.socket.destroy();
      }
      await settle(sock, 'full', 0);
      for (let i = 0; i < 3; i++) {
        real.push(await ask('full'));
        await settle(sock, 'full', 0);
      }
    }
    assertSame(sim, real, 'full servers');
  });

  test('a redispatch avoids the server that failed: the same sequence', async () => {
    const { lb, srvs } = simulate(REDISP_WEIGHTS);
    const dead = srvs.find((s) => s.name === DEAD)!;
    const sim: string[] = [];
    for (let i = 0; i < 2 * range(REDISP_WEIGHTS); i++) {
      let s = lb.pick(undefined, null)!;
      if (s === dead) s = lb.pick(undefined, dead)!;
      sim.push(s.name);
    }
    const real = await askMany('redisp', sim.length);
    assertSame(sim, real, 'redispatch');
  });
});
