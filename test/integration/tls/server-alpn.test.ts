// `server ... ssl alpn h2,http/1.1`: the server's ALPN choice decides, per connection, whether
// HTTP/2 or HTTP/1.1 is spoken to it (HAProxy installs the mux after the handshake). TLS servers
// offering h2 and http/1.1, h2 alone, http/1.1 alone or no ALPN at all, our preference order
// reversed, a server that changes its mind between connections (restarted on the same port with
// other protocols), and haproxy and nghttpd as real TLS servers. Every scenario also runs on
// haproxy 2.6 with the same configuration.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import {
  H2Client,
  HttpClient,
  bodyPattern,
  curl,
  freePort,
  makeCa,
  makeTempDir,
  requireBinary,
  skipUnless,
  startHaproxy,
  startProcess,
  startTlsOrigin,
  type IssuedCert,
  type TestCa,
  type TlsOrigin,
  type TlsOriginAlpn,
  type TlsSeen,
} from '../../harness/index.js';
import { haveHaproxy, lazySides, sideTest, type Side } from '../../harness/sides.js';

/** One frontend port and one backend per scenario, so that each starts with nothing learned. */
const SCENARIOS = ['both', 'h1only', 'h1burst', 'noalpn', 'h2only', 'reversed', 'h1offer', 'moving', 'hap2', 'hap1', 'nghttpd'] as const;
type Scenario = (typeof SCENARIOS)[number];

const ALPN_OF: Record<Scenario, string> = {
  both: 'alpn h2,http/1.1',
  h1only: 'alpn h2,http/1.1',
  h1burst: 'alpn h2,http/1.1',
  noalpn: 'alpn h2,http/1.1',
  h2only: 'alpn h2,http/1.1',
  reversed: 'alpn http/1.1,h2',
  h1offer: 'alpn http/1.1',
  moving: 'alpn h2,http/1.1',
  hap2: 'alpn h2,http/1.1',
  hap1: 'alpn h2,http/1.1',
  nghttpd: 'alpn h2,http/1.1',
};

function template(): string {
  let t = `global
    log stdout format raw local0
defaults
    mode http
    log global
    log-format "%ft %b/%s %ST %HV"
    timeout connect 2s
    timeout client 10s
    timeout server 10s
`;
  for (const s of SCENARIOS) {
    t += `frontend f_${s}\n    bind 127.0.0.1:{{port:${s}}}\n    default_backend b_${s}\n`;
    t += `backend b_${s}\n    server s1 127.0.0.1:{{${s}}} ssl verify required ca-file {{ca}} sni str(srv.test) ${ALPN_OF[s]}\n`;
  }
  return t;
}

let ca: TestCa;
let cert: IssuedCert;
const origins: Partial<Record<Scenario, TlsOrigin>> = {};
const ports: Partial<Record<Scenario, number>> = {};
let nghttpdDir = '';
const stops: Array<() => Promise<unknown>> = [];

const ORIGIN_ALPN: Partial<Record<Scenario, TlsOriginAlpn>> = {
  both: 'h2+h1',
  h1only: 'h1',
  h1burst: 'h1',
  noalpn: 'none',
  h2only: 'h2',
  reversed: 'h2+h1',
  h1offer: 'h2+h1',
};

const haveNghttpd = skipUnless('nghttpd') === false;

before(async () => {
  ca = makeCa();
  cert = ca.issue('srv', { sans: ['srv.test'] });
  for (const [s, alpn] of Object.entries(ORIGIN_ALPN) as Array<[Scenario, TlsOriginAlpn]>) {
    const o = await startTlsOrigin({ cert: cert.cert, key: cert.key, alpn });
    origins[s] = o;
    ports[s] = o.port;
  }
  // The moving server starts as HTTP/1.1 only; its tests restart it on the same port.
  ports.moving = await freePort();
  origins.moving = await startTlsOrigin({ cert: cert.cert, key: cert.key, alpn: 'h1', port: ports.moving });
  // haproxy as the TLS server, answering with the HTTP version it received.
  const hap = { hap2: await freePort(), hap1: await freePort() };
  const hapCfg = `defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend two
    bind 127.0.0.1:${hap.hap2} ssl crt ${cert.pemFile} alpn h2,http/1.1
    http-request return status 200 content-type text/plain lf-string "%[req.ver]"
frontend one
    bind 127.0.0.1:${hap.hap1} ssl crt ${cert.pemFile} alpn http/1.1
    http-request return status 200 content-type text/plain lf-string "%[req.ver]"
`;
  const h = await startHaproxy(hapCfg, { waitPorts: [hap.hap2, hap.hap1] });
  stops.push(() => h.stop());
  ports.hap2 = hap.hap2;
  ports.hap1 = hap.hap1;
  ports.nghttpd = await freePort();
  if (haveNghttpd) {
    nghttpdDir = makeTempDir('sluice-nghttpd-tls-');
    fs.writeFileSync(path.join(nghttpdDir, 'big'), bodyPattern(300_000));
    const n = await startProcess(
      'nghttpd',
      [requireBinary('nghttpd'), '-a', '127.0.0.1', '-d', nghttpdDir, String(ports.nghttpd), cert.keyFile, cert.certFile],
      { waitPorts: [ports.nghttpd], dir: nghttpdDir },
    );
    stops.push(() => n.stop());
  }
});

after(async () => {
  await sides.stop();
  for (const s of stops) await s();
  for (const o of Object.values(origins)) await o?.close();
});

const sides = lazySides(template(), () => ({ values: { ca: ca.certFile, ...(ports as Record<string, number>) } }));

/** `n` sequential HTTP/1.1 requests on one client connection; returns the JSON the origin answered. */
async function h1Requests(side: Side, s: Scenario, n: number): Promise<TlsSeen[]> {
  const c = await HttpClient.connect(side.port(s));
  try {
    const out: TlsSeen[] = [];
    for (let i = 0; i < n; i++) {
      const r = await c.request({ path: `/h1-${i}` });
      assert.equal(r.status, 200, r.text);
      out.push(JSON.parse(r.text) as TlsSeen);
    }
    return out;
  } finally {
    c.socket.destroy();
  }
}

/** `n` concurrent HTTP/2 streams on one client connection. */
async function h2Burst(side: Side, s: Scenario, n: number): Promise<TlsSeen[]> {
  const c = await H2Client.connect(side.port(s));
  try {
    const rs = await Promise.all(Array.from({ length: n }, (_, i) => c.request({ path: `/h2-${i}` })));
    return rs.map((r, i) => {
      assert.equal(r.status, 200, `stream ${i}: ${r.error ?? r.body.toString()}`);
      assert.ok(r.ended, `stream ${i} ended`);
      return JSON.parse(r.body.toString()) as TlsSeen;
    });
  } finally {
    c.destroy();
  }
}

const distinct = (xs: TlsSeen[]): number => new Set(xs.map((x) => x.conn)).size;

describe('the server chooses by ALPN', () => {
  sideTest('h2 and http/1.1 offered, the server prefers h2: HTTP/2, one connection for a client\'s requests', sides, async (side) => {
    const seen = await h1Requests(side, 'both', 4);
    assert.deepEqual(seen.map((x) => [x.version, x.alpn, x.sni]), Array(4).fill(['2.0', 'h2', 'srv.test']));
    assert.equal(distinct(seen), 1, 'the requests of one client connection share the HTTP/2 connection');
    const burst = await h2Burst(side, 'both', 8);
    assert.ok(burst.every((x) => x.version === '2.0'));
  });

  sideTest('a server offering http/1.1 only: HTTP/1.1, from HTTP/1.1 and HTTP/2 clients alike', sides, async (side) => {
    const seen = await h1Requests(side, 'h1only', 3);
    assert.deepEqual(seen.map((x) => [x.version, x.alpn]), Array(3).fill(['1.1', 'http/1.1']));
    assert.equal(distinct(seen), 1, 'keep-alive to the server over TLS');
    const burst = await h2Burst(side, 'h1only', 6);
    assert.ok(burst.every((x) => x.version === '1.1'));
  });

  sideTest('first contact as a burst of HTTP/2 streams to a server choosing http/1.1: each goes over HTTP/1.1', sides, async (side) => {
    const before = origins.h1burst!.connections;
    const burst = await h2Burst(side, 'h1burst', 6);
    assert.deepEqual(burst.map((x) => [x.version, x.alpn]), Array(6).fill(['1.1', 'http/1.1']));
    // One connection per stream at most: the one opened for HTTP/2 carries one of them.
    assert.ok(origins.h1burst!.connections - before <= 6, `${origins.h1burst!.connections - before} connections for 6 requests`);
  });

  sideTest('a server with no ALPN at all: HTTP/1.1', sides, async (side) => {
    const seen = await h1Requests(side, 'noalpn', 2);
    assert.deepEqual(seen.map((x) => [x.version, x.alpn]), [['1.1', false], ['1.1', false]]);
    const burst = await h2Burst(side, 'noalpn', 4);
    assert.ok(burst.every((x) => x.version === '1.1'));
  });

  sideTest('a server speaking h2 only', sides, async (side) => {
    const seen = await h1Requests(side, 'h2only', 2);
    assert.ok(seen.every((x) => x.version === '2.0'));
  });

  sideTest('our list in the other order (http/1.1,h2): the server\'s preference, h2, wins', sides, async (side) => {
    const seen = await h1Requests(side, 'reversed', 3);
    assert.deepEqual(seen.map((x) => x.version), ['2.0', '2.0', '2.0']);
    assert.equal(distinct(seen), 1);
    const burst = await h2Burst(side, 'reversed', 6);
    assert.ok(burst.every((x) => x.version === '2.0'));
  });

  sideTest('alpn http/1.1 alone: HTTP/1.1 even to a server that prefers h2', sides, async (side) => {
    const seen = await h1Requests(side, 'h1offer', 2);
    assert.deepEqual(seen.map((x) => [x.version, x.alpn]), [['1.1', 'http/1.1'], ['1.1', 'http/1.1']]);
  });
});

describe('a server that changes protocols between connections', () => {
  async function restart(alpn: TlsOriginAlpn): Promise<void> {
    await origins.moving!.close();
    origins.moving = await startTlsOrigin({ cert: cert.cert, key: cert.key, alpn, port: ports.moving });
  }

  // One test per proxy: the server is restarted under it, so the two runs cannot share it.
  for (const kind of ['sluice', 'haproxy'] as const) {
    test(`http/1.1, then h2 and http/1.1, then http/1.1 again: each connection speaks what the server chose${kind === 'haproxy' ? ' [haproxy 2.6]' : ''}`,
      { skip: kind === 'haproxy' && !haveHaproxy ? 'haproxy is not installed' : false },
      async (t: TestContext) => {
        await restart('h1');
        const side = await sides.side(kind);
        const versions = async (): Promise<string[]> => [...(await h1Requests(side, 'moving', 2)), ...(await h2Burst(side, 'moving', 4))].map((x) => x.version);
        assert.deepEqual(await versions(), Array(6).fill('1.1'));
        await restart('h2+h1');
        assert.deepEqual(await versions(), Array(6).fill('2.0'), 'the server now chooses h2');
        await restart('h1');
        assert.deepEqual(await versions(), Array(6).fill('1.1'), 'and http/1.1 again');
        t.diagnostic(`${kind}: ${origins.moving!.connections} connections on the last server`);
      });
  }
});

describe('real TLS servers', () => {
  sideTest('haproxy as the server: h2 when its bind offers it, http/1.1 when it offers only that', sides, async (side) => {
    for (const [s, want] of [['hap2', '2.0'], ['hap1', '1.1']] as const) {
      const c = await HttpClient.connect(side.port(s));
      try {
        for (let i = 0; i < 3; i++) {
          const r = await c.request({ path: `/${i}` });
          assert.equal(r.status, 200);
          assert.equal(r.text, want, `${s}: haproxy received HTTP/${want}`);
        }
      } finally {
        c.socket.destroy();
      }
      const h2 = await H2Client.connect(side.port(s));
      try {
        const rs = await Promise.all(Array.from({ length: 5 }, (_, i) => h2.request({ path: `/s${i}` })));
        assert.deepEqual(rs.map((r) => [r.status, r.body.toString()]), Array(5).fill([200, want]));
      } finally {
        h2.destroy();
      }
    }
  });

  sideTest('nghttpd over TLS (h2 only): a 300 kB file to HTTP/1.1 and HTTP/2 clients', sides, async (side) => {
    const url = `http://127.0.0.1:${side.port('nghttpd')}/big`;
    const c1 = await curl(['--http1.1', url]);
    assert.equal(c1.status, 200, c1.stderr);
    assert.ok(c1.body.equals(bodyPattern(300_000)), 'the file whole over HTTP/1.1');
    const c2 = await curl(['--http2-prior-knowledge', url]);
    assert.equal(c2.status, 200, c2.stderr);
    assert.ok(c2.body.equals(bodyPattern(300_000)), 'the file whole over HTTP/2');
  }, haveNghttpd ? {} : { noReference: 'nghttpd is not installed' });
});
