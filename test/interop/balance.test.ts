// Balancing compared with haproxy 2.6: the same backends under sluice and under haproxy, in front
// of the same origins (each answers with its name in X-Server, and the server lines carry the same
// names), the same request sequences, and the server that answered each request compared.
// Map-based hashing reproduces HAProxy's hash functions, so the same key must land on the same
// server name in both proxies.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  HttpClient,
  buildRequest,
  freePorts,
  parseResponses,
  request,
  skipUnless,
  startOrigin,
  type Origin,
  type RequestOptions,
} from '../harness/index.js';
import { headerOf, startReferencePair, type ProxyKind, type ReferencePair } from './reference.js';

const ORIGINS = ['s1', 's2', 's3', 's4'] as const;

const CONFIG = `
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout queue 5s

listen rr
    bind 127.0.0.1:{{port:rr}}
    balance roundrobin
    server s1 127.0.0.1:{{s1}} weight 3
    server s2 127.0.0.1:{{s2}} weight 2
    server s3 127.0.0.1:{{s3}} weight 1

listen srr
    bind 127.0.0.1:{{port:srr}}
    balance static-rr
    server s1 127.0.0.1:{{s1}} weight 3
    server s2 127.0.0.1:{{s2}} weight 2
    server s3 127.0.0.1:{{s3}} weight 1

listen first
    bind 127.0.0.1:{{port:first}}
    balance first
    server s1 127.0.0.1:{{s1}} maxconn 2
    server s2 127.0.0.1:{{s2}} maxconn 2
    server s3 127.0.0.1:{{s3}} maxconn 2

listen lc
    bind 127.0.0.1:{{port:lc}}
    balance leastconn
    server s1 127.0.0.1:{{s1}}
    server s2 127.0.0.1:{{s2}}
    server s3 127.0.0.1:{{s3}}

listen src
    bind 127.0.0.1:{{port:src}}
    balance source
    server s1 127.0.0.1:{{s1}} weight 1
    server s2 127.0.0.1:{{s2}} weight 2
    server s3 127.0.0.1:{{s3}} weight 3
    server s4 127.0.0.1:{{s4}} weight 1

listen uri
    bind 127.0.0.1:{{port:uri}}
    balance uri
    server s1 127.0.0.1:{{s1}} weight 1
    server s2 127.0.0.1:{{s2}} weight 2
    server s3 127.0.0.1:{{s3}} weight 3
    server s4 127.0.0.1:{{s4}} weight 1

listen uriwhole
    bind 127.0.0.1:{{port:uriwhole}}
    balance uri whole
    server s1 127.0.0.1:{{s1}}
    server s2 127.0.0.1:{{s2}}
    server s3 127.0.0.1:{{s3}}

listen urlp
    bind 127.0.0.1:{{port:urlp}}
    balance url_param id
    server s1 127.0.0.1:{{s1}} weight 1
    server s2 127.0.0.1:{{s2}} weight 2
    server s3 127.0.0.1:{{s3}} weight 3
    server s4 127.0.0.1:{{s4}} weight 1

listen hdr
    bind 127.0.0.1:{{port:hdr}}
    balance hdr(host)
    server s1 127.0.0.1:{{s1}} weight 1
    server s2 127.0.0.1:{{s2}} weight 2
    server s3 127.0.0.1:{{s3}} weight 3
    server s4 127.0.0.1:{{s4}} weight 1

listen urich
    bind 127.0.0.1:{{port:urich}}
    balance uri
    hash-type consistent
    server s1 127.0.0.1:{{s1}}
    server s2 127.0.0.1:{{s2}}
    server s3 127.0.0.1:{{s3}}
    server s4 127.0.0.1:{{s4}}

listen bkcheck
    bind 127.0.0.1:{{port:bkcheck}}
    retries 0
    server a1 127.0.0.1:{{closed1}} check inter 100ms fall 1 rise 1
    server a2 127.0.0.1:{{closed2}} check inter 100ms fall 1 rise 1
    server s3 127.0.0.1:{{s3}} backup
    server s4 127.0.0.1:{{s4}} backup

listen bkmaint
    bind 127.0.0.1:{{port:bkmaint}}
    server a1 127.0.0.1:{{s1}} disabled
    server a2 127.0.0.1:{{s2}} disabled
    server s3 127.0.0.1:{{s3}} backup
    server s4 127.0.0.1:{{s4}} backup

listen bkall
    bind 127.0.0.1:{{port:bkall}}
    option allbackups
    server a1 127.0.0.1:{{s1}} disabled
    server s2 127.0.0.1:{{s2}} backup weight 1
    server s3 127.0.0.1:{{s3}} backup weight 2
    server s4 127.0.0.1:{{s4}} backup weight 1

listen bkidle
    bind 127.0.0.1:{{port:bkidle}}
    server s1 127.0.0.1:{{s1}}
    server s2 127.0.0.1:{{s2}}
    server s3 127.0.0.1:{{s3}} backup

listen dis
    bind 127.0.0.1:{{port:dis}}
    server s1 127.0.0.1:{{s1}}
    server s2 127.0.0.1:{{s2}} disabled
    server s3 127.0.0.1:{{s3}}
`;

const SIDES: readonly ProxyKind[] = ['sluice', 'haproxy'];

/** One request on a fresh connection; resolves with the name of the server that answered. */
async function serverFor(port: number, o: RequestOptions = {}): Promise<string> {
  const r = await request(port, { timeoutMs: 5000, ...o });
  assert.equal(r.status, 200, `status ${r.status} for ${o.path ?? '/'}: ${r.text.slice(0, 200)}`);
  const s = r.header('x-server');
  assert.ok(s, 'no X-Server in the response');
  return s;
}

/** `n` sequential requests, each on a fresh connection: the servers in order. */
async function sequence(port: number, n: number, o: RequestOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await serverFor(port, o));
  return out;
}

function counts(seq: readonly string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const s of seq) c[s] = (c[s] ?? 0) + 1;
  return c;
}

/** The longest run of the same server in a sequence, per server. */
function longestRuns(seq: readonly string[]): Record<string, number> {
  const best: Record<string, number> = {};
  let run = 0;
  for (let i = 0; i < seq.length; i++) {
    run = i > 0 && seq[i] === seq[i - 1] ? run + 1 : 1;
    const s = seq[i]!;
    best[s] = Math.max(best[s] ?? 0, run);
  }
  return best;
}

/** Resolves once the origins together have received `n` more requests than `base`. */
function originsReached(origins: readonly Origin[], base: number, n: number, timeoutMs = 5000): Promise<void> {
  const total = (): number => origins.reduce((a, o) => a + o.requestCount, 0);
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (total() < base + n) return;
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`origins received ${total() - base} of ${n} requests within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      for (const o of origins) o.off('request', check);
    };
    for (const o of origins) o.on('request', check);
    check();
  });
}

/**
 * Opens `n` requests one after the other, each sent only once the previous one reached an origin
 * (so that the proxy sees them in a known order and with known loads), all held open by the
 * origins' `delay`; resolves with the servers in request order once all have answered.
 */
async function heldRequests(port: number, n: number, origins: readonly Origin[], delayMs: number): Promise<string[]> {
  const base = origins.reduce((a, o) => a + o.requestCount, 0);
  const clients: HttpClient[] = [];
  const answers: Array<Promise<string>> = [];
  let answered = 0;
  try {
    for (let i = 0; i < n; i++) {
      const c = await HttpClient.connect(port);
      clients.push(c);
      answers.push(
        c.request({ path: `/?delay=${delayMs}&i=${i}`, timeoutMs: 10000 }).then((r) => {
          answered++;
          assert.equal(r.status, 200);
          return r.header('x-server') ?? '?';
        }),
      );
      await originsReached(origins, base, i + 1);
    }
    // The premise: every request was still being served when the last one was placed.
    assert.equal(answered, 0, `a request ended before all ${n} were placed: the ${delayMs} ms hold was too short`);
    return await Promise.all(answers);
  } finally {
    for (const c of clients) c.socket.destroy();
  }
}

/** One GET from a chosen loopback source address (for `balance source`); resolves with X-Server. */
function serverFromSource(port: number, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer from ${localAddress}`));
    }, 5000);
    s.on('connect', () => s.write(buildRequest(port, { path: '/' })));
    s.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      const r = parseResponses(data, ['GET'], false)[0];
      if (!r) return;
      clearTimeout(timer);
      s.destroy();
      resolve(headerOf(r.headers, 'x-server') ?? '?');
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe('balancing: sluice picks the servers haproxy 2.6 picks', { skip: skipUnless('haproxy') }, () => {
  let pair: ReferencePair;
  const origins: Origin[] = [];

  before(async () => {
    for (const name of ORIGINS) origins.push(await startOrigin(name));
    const [closed1, closed2] = await freePorts(2);
    const values: Record<string, number> = { closed1: closed1!, closed2: closed2! };
    origins.forEach((o) => (values[o.name] = o.port));
    pair = await startReferencePair(CONFIG, { values });
  });

  after(async () => {
    await pair?.stop();
    for (const o of origins) await o.close();
  });

  /** Runs `fn` against sluice then haproxy (one after the other, so origin loads do not mix). */
  async function both<T>(fn: (kind: ProxyKind) => Promise<T>): Promise<{ sluice: T; haproxy: T }> {
    const sluice = await fn('sluice');
    const haproxy = await fn('haproxy');
    return { sluice, haproxy };
  }

  test('roundrobin 3,2,1: same counts over 60 requests, smooth sequence', async () => {
    const got = await both((k) => sequence(pair[k].port('rr'), 60));
    assert.deepEqual(counts(got.haproxy), { s1: 30, s2: 20, s3: 10 }, 'haproxy itself');
    assert.deepEqual(counts(got.sluice), counts(got.haproxy), `sluice: ${got.sluice.join(' ')}`);
    // Smooth: no server is picked more often in a row than its share of the rotation plus one.
    const runs = longestRuns(got.sluice);
    assert.ok((runs.s1 ?? 0) <= 2 && (runs.s2 ?? 0) <= 2 && (runs.s3 ?? 0) <= 1, `runs ${JSON.stringify(runs)}: ${got.sluice.join(' ')}`);
  });

  test('roundrobin 3,2,1: the same sequence as haproxy', async () => {
    const got = await both((k) => sequence(pair[k].port('rr'), 12));
    // Both continue from where the previous test left them: 60 requests is a whole number of rotations.
    assert.deepEqual(got.sluice, got.haproxy);
  });

  test('static-rr 3,2,1: same counts and the same sequence', async () => {
    const got = await both((k) => sequence(pair[k].port('srr'), 60));
    assert.deepEqual(counts(got.haproxy), { s1: 30, s2: 20, s3: 10 }, 'haproxy itself');
    assert.deepEqual(counts(got.sluice), counts(got.haproxy));
    assert.deepEqual(got.sluice, got.haproxy);
  });

  test('first: sequential requests all go to the first server', async () => {
    const got = await both((k) => sequence(pair[k].port('first'), 10));
    assert.deepEqual(got.haproxy, Array(10).fill('s1'), 'haproxy itself');
    assert.deepEqual(got.sluice, got.haproxy);
  });

  test('first with maxconn 2: concurrent requests fill s1, then s2, then s3', async () => {
    const got = await both((k) => heldRequests(pair[k].port('first'), 5, origins, 1000));
    assert.deepEqual(got.haproxy, ['s1', 's1', 's2', 's2', 's3'], 'haproxy itself');
    assert.deepEqual(got.sluice, got.haproxy);
  });

  test('leastconn: concurrent slow requests spread evenly, in the same order', async () => {
    const got = await both((k) => heldRequests(pair[k].port('lc'), 6, origins, 1000));
    assert.deepEqual(counts(got.haproxy), { s1: 2, s2: 2, s3: 2 }, `haproxy itself: ${got.haproxy.join(' ')}`);
    assert.deepEqual(counts(got.sluice), counts(got.haproxy), `sluice: ${got.sluice.join(' ')}`);
    assert.deepEqual(got.sluice, got.haproxy);
  });

  test('source: every request from 127.0.0.1 sticks to one server, the same in both', async () => {
    const got = await both((k) => sequence(pair[k].port('src'), 10));
    for (const kind of SIDES) assert.equal(new Set(got[kind]).size, 1, `${kind}: ${got[kind].join(' ')}`);
    assert.equal(got.sluice[0], got.haproxy[0]);
  });

  test('source: 24 loopback source addresses land on the same servers in both', async () => {
    const addrs = Array.from({ length: 24 }, (_, i) => `127.${(i * 37) % 256}.${(i * 91 + 13) % 256}.${((i * 53 + 7) % 253) + 1}`);
    const got = await both(async (k) => {
      const out: string[] = [];
      for (const a of addrs) out.push(await serverFromSource(pair[k].port('src'), a));
      return out;
    });
    assert.ok(new Set(got.haproxy).size >= 3, `haproxy used ${[...new Set(got.haproxy)].join(',')}`);
    assert.deepEqual(got.sluice, got.haproxy);
  });

  const URIS = ['/', '/a', '/b', '/index.html', '/img/logo.png', '/api/v1/users', '/api/v1/users/42', '/x/y/z', '/static/app.js', '/search', '/Z', '/%41', '/long/' + 'p'.repeat(200), '/q?x=1', '/q?x=2', '/cart', '/checkout', '/1', '/22', '/333'];

  test('uri (map-based, weights 1,2,3,1): each path lands on the same server', async () => {
    const got = await both(async (k) => {
      const out: string[] = [];
      for (const u of URIS) out.push(await serverFor(pair[k].port('uri'), { path: u }));
      return out;
    });
    assert.ok(new Set(got.haproxy).size >= 3, `haproxy used ${[...new Set(got.haproxy)].join(',')}`);
    assert.deepEqual(got.sluice, got.haproxy);
    // The query string is not part of the key.
    assert.equal(got.sluice[URIS.indexOf('/q?x=1')], got.sluice[URIS.indexOf('/q?x=2')]);
  });

  test('uri whole: the query string is part of the key, same servers', async () => {
    const paths = Array.from({ length: 16 }, (_, i) => `/page?n=${i}`);
    const got = await both(async (k) => {
      const out: string[] = [];
      for (const u of paths) out.push(await serverFor(pair[k].port('uriwhole'), { path: u }));
      return out;
    });
    assert.ok(new Set(got.haproxy).size >= 2, `haproxy used ${[...new Set(got.haproxy)].join(',')}`);
    assert.deepEqual(got.sluice, got.haproxy);
  });

  test('url_param id: each value lands on the same server; absent parameter falls back to round robin', async () => {
    const ids = ['1', '2', '3', '42', 'abc', 'user-7', 'ZZZ', '1000000', 'é', '', 'x y'];
    const got = await both(async (k) => {
      const out: string[] = [];
      for (const id of ids) out.push(await serverFor(pair[k].port('urlp'), { path: `/item?foo=bar&id=${encodeURIComponent(id)}&z=1` }));
      return out;
    });
    assert.ok(new Set(got.haproxy).size >= 3, `haproxy used ${[...new Set(got.haproxy)].join(',')}`);
    assert.deepEqual(got.sluice, got.haproxy);
    const rr = await both((k) => sequence(pair[k].port('urlp'), 14, { path: '/item?other=1' }));
    for (const kind of SIDES) assert.ok(new Set(rr[kind]).size >= 3, `${kind} without the parameter: ${rr[kind].join(' ')}`);
  });

  test('hdr(host): each Host value lands on the same server', async () => {
    const hosts = ['a.example', 'b.example', 'www.example.com', 'api.example.com', 'example.org', 'x', 'h1.test:8080', 'h2.test', 'shop.example.net', 'LONG.' + 'n'.repeat(60) + '.example'];
    const got = await both(async (k) => {
      const out: string[] = [];
      for (const h of hosts) out.push(await serverFor(pair[k].port('hdr'), { headers: { Host: h } }));
      return out;
    });
    assert.ok(new Set(got.haproxy).size >= 3, `haproxy used ${[...new Set(got.haproxy)].join(',')}`);
    assert.deepEqual(got.sluice, got.haproxy);
  });

  test('uri with hash-type consistent: each path lands on the same server', async () => {
    const got = await both(async (k) => {
      const out: string[] = [];
      for (const u of URIS) out.push(await serverFor(pair[k].port('urich'), { path: u }));
      return out;
    });
    assert.ok(new Set(got.haproxy).size >= 3, `haproxy used ${[...new Set(got.haproxy)].join(',')}`);
    assert.deepEqual(got.sluice, got.haproxy);
  });

  test('backup servers idle while an active server is usable', async () => {
    const got = await both((k) => sequence(pair[k].port('bkidle'), 8));
    assert.deepEqual(counts(got.haproxy), { s1: 4, s2: 4 }, 'haproxy itself');
    assert.deepEqual(got.sluice, got.haproxy);
  });

  test('actives in maintenance: only the first backup takes the traffic', async () => {
    const got = await both((k) => sequence(pair[k].port('bkmaint'), 6));
    assert.deepEqual(got.haproxy, Array(6).fill('s3'), 'haproxy itself');
    assert.deepEqual(got.sluice, got.haproxy);
  });

  test('option allbackups: the backups share the traffic by weight', async () => {
    const got = await both((k) => sequence(pair[k].port('bkall'), 16));
    assert.deepEqual(counts(got.haproxy), { s2: 4, s3: 8, s4: 4 }, `haproxy itself: ${got.haproxy.join(' ')}`);
    assert.deepEqual(counts(got.sluice), counts(got.haproxy), `sluice: ${got.sluice.join(' ')}`);
  });

  test('disabled servers are never used', async () => {
    const got = await both((k) => sequence(pair[k].port('dis'), 10));
    assert.deepEqual(counts(got.haproxy), { s1: 5, s3: 5 }, 'haproxy itself');
    assert.deepEqual(counts(got.sluice), counts(got.haproxy));
  });

  test(
    'actives on closed ports, marked DOWN by their checks: the first backup takes the traffic',
    async () => {
      for (const kind of SIDES) {
        // HAProxy reports each state change on stderr; sluice must too once checks run.
        await pair[kind].proc.waitForLine(/Server bkcheck\/a1 is DOWN/, 3000);
        await pair[kind].proc.waitForLine(/Server bkcheck\/a2 is DOWN/, 3000);
      }
      const got = await both((k) => sequence(pair[k].port('bkcheck'), 6));
      assert.deepEqual(got.haproxy, Array(6).fill('s3'), 'haproxy itself');
      assert.deepEqual(got.sluice, got.haproxy);
    },
  );
});
