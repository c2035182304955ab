// HTTP/2 and TLS health checks on sluice and haproxy 2.6 with the same configuration. HTTP/2 in
// clear (`check-proto h2`, `http-check connect proto h2`) against nghttpd --no-tls and against
// haproxy itself as an h2c server; TLS (`check-ssl`, `ssl` carried over to checks, `verify none`
// or a CA, `check-sni`, `check-alpn h2`) against node's TLS servers, with the layer-6 texts:
// L6OK "Layer6 check passed", L6RSP "Layer6 invalid response" (info "SSL handshake failure"),
// L6TOUT "Layer6 timeout". The log-line cases share their servers; the cases that look at what a
// TLS server saw (SNI, protocol) start servers of their own per proxy.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe } from 'node:test';
import {
  freePort,
  makeCa,
  makeTempDir,
  requireBinary,
  skipUnless,
  startHaproxy,
  startOrigin,
  startProcess,
  startRawServer,
  startTlsOrigin,
  request,
  type IssuedCert,
  type Origin,
  type ProcHandle,
  type RawServer,
  type TestCa,
  type TlsOrigin,
  type TlsOriginAlpn,
} from '../../harness/index.js';
import { healthLines, kindTest, pause, waitHealth, waitHealthLines } from '../../harness/checks.js';
import { lazySides, sideTest, type Side } from '../../harness/sides.js';

const tools = skipUnless('nghttpd');

interface Case {
  name: string;
  be: string;
  /** Backend lines before the server line. */
  lines: string;
  /** The server line's address and keywords after `server s1 `. */
  server: string;
  expect: string[];
  todo?: string;
  /** What sluice logs where it differs from haproxy on purpose (docs/configuration.md). */
  sluiceExpect?: string[];
}

const OK = (be: string, code = 200): string => `Health check for server ${be}/s1 succeeded, reason: Layer7 check passed, code: ${code}, check duration: Nms, status: 3/3 UP.`;
const L6OK = (be: string): string => `Health check for server ${be}/s1 succeeded, reason: Layer6 check passed, check duration: Nms, status: 3/3 UP.`;
const FAIL = (be: string, reason: string): string[] => [
  `Health check for server ${be}/s1 failed, reason: ${reason}, check duration: Nms, status: 0/2 DOWN.`,
  `Server ${be}/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`,
  `backend ${be} has no server available!`,
];
const HOST = 'hdr host localhost';

const CASES: Case[] = [
  // ---- HTTP/2 in clear ----
  {
    name: 'check-proto h2 against nghttpd',
    be: 'h2_nghttpd',
    lines: `option httpchk\nhttp-check send meth GET uri /health ver HTTP/1.1 ${HOST}\nhttp-check expect string healthy`,
    server: '127.0.0.1:{{nghttpd}} check inter 300 check-proto h2',
    expect: [OK('h2_nghttpd')],
  },
  {
    // HTTP/2 has no reason phrase: no info.
    name: 'check-proto h2 against nghttpd: a 404 has no reason phrase',
    be: 'h2_nghttpd_404',
    lines: `option httpchk\nhttp-check send meth GET uri /missing ${HOST}\nhttp-check expect status 200`,
    server: '127.0.0.1:{{nghttpd}} check inter 300 check-proto h2',
    expect: FAIL('h2_nghttpd_404', 'Layer7 wrong status, code: 404'),
  },
  {
    // Without a Host header haproxy sends no :authority, and nghttpd (nghttp2) resets the stream.
    name: 'check-proto h2 without a Host header: nghttpd refuses the stream, a socket error',
    be: 'h2_noauth',
    lines: 'option httpchk GET /health',
    server: '127.0.0.1:{{nghttpd}} check inter 300 check-proto h2',
    expect: FAIL('h2_noauth', 'Socket error'),
    // sluice sends the server's address as :authority (node's http2 client always sends one).
    sluiceExpect: [OK('h2_noauth')],
  },
  {
    name: 'http-check connect proto h2 against nghttpd',
    be: 'h2_connect',
    lines: `option httpchk\nhttp-check connect proto h2\nhttp-check send meth GET uri /health ${HOST}\nhttp-check expect status 200`,
    server: '127.0.0.1:{{nghttpd}} check inter 300',
    expect: [OK('h2_connect')],
  },
  {
    name: 'proto h2 on the server line carries over to checks',
    be: 'h2_server_proto',
    lines: `option httpchk\nhttp-check send meth GET uri /health ${HOST}`,
    server: '127.0.0.1:{{nghttpd}} proto h2 check inter 300',
    expect: [OK('h2_server_proto')],
  },
  {
    name: 'h2 check against haproxy as an h2c server',
    be: 'h2_haproxy',
    lines: 'option httpchk GET /health\nhttp-check expect string ok',
    server: '127.0.0.1:{{h2c}} check inter 300 check-proto h2',
    expect: [OK('h2_haproxy')],
  },
  {
    name: 'h2 check against haproxy as an h2c server: a 503',
    be: 'h2_haproxy_503',
    lines: 'option httpchk GET /down',
    server: '127.0.0.1:{{h2c}} check inter 300 check-proto h2',
    expect: FAIL('h2_haproxy_503', 'Layer7 wrong status, code: 503'),
  },
  {
    name: 'h2 check against an HTTP/1-only server',
    be: 'h2_on_h1',
    lines: 'option httpchk GET /',
    server: '127.0.0.1:{{origin}} check inter 300 check-proto h2',
    expect: FAIL('h2_on_h1', 'Socket error'),
  },

  // ---- TLS ----
  // inter 1s: the handshake must fit in min(inter, timeout connect), a node server on a loaded
  // machine may need a few hundred ms.
  { name: 'check-ssl verify none, no http check: L6OK', be: 'tls_l6ok', lines: '', server: '127.0.0.1:{{tlsA}} check check-ssl verify none inter 1s', expect: [L6OK('tls_l6ok')] },
  { name: 'check-ssl verified by the right CA: L6OK', be: 'tls_ca_ok', lines: '', server: '127.0.0.1:{{tlsA}} check check-ssl verify required ca-file {{cafile}} check-sni a.test inter 1s', expect: [L6OK('tls_ca_ok')] },
  {
    name: 'check-ssl with a CA that did not sign the certificate: L6RSP',
    be: 'tls_ca_bad',
    lines: '',
    server: '127.0.0.1:{{tlsA}} check check-ssl verify required ca-file {{othercafile}} inter 1s',
    expect: FAIL('tls_ca_bad', 'Layer6 invalid response, info: "SSL handshake failure"'),
  },
  {
    name: 'check-ssl against a clear-text server: L6RSP',
    be: 'tls_plain',
    lines: '',
    server: '127.0.0.1:{{plain}} check check-ssl verify none inter 1s',
    expect: FAIL('tls_plain', 'Layer6 invalid response, info: "SSL handshake failure"'),
  },
  {
    name: 'check-ssl against a server that never answers the handshake: L6TOUT',
    be: 'tls_silent',
    lines: 'timeout check 2s',
    server: '127.0.0.1:{{silent}} check check-ssl verify none inter 400',
    expect: FAIL('tls_silent', 'Layer6 timeout'),
  },
  { name: 'http check over TLS', be: 'tls_http', lines: 'option httpchk GET /health', server: '127.0.0.1:{{tlsA}} check check-ssl verify none inter 1s', expect: [OK('tls_http')] },
  { name: 'http check over TLS with check-alpn h2', be: 'tls_h2', lines: `option httpchk\nhttp-check send meth GET uri /health ${HOST}`, server: '127.0.0.1:{{tlsA}} check check-ssl check-alpn h2 verify none inter 1s', expect: [OK('tls_h2')] },
  { name: 'ssl on the server line carries over to checks', be: 'tls_inherit', lines: 'option httpchk GET /health', server: '127.0.0.1:{{tlsA}} ssl verify none check inter 1s', expect: [OK('tls_inherit')] },
  {
    name: 'tcp-check connect ssl: a layer-6 check of its own',
    be: 'tcp_connect_ssl',
    lines: 'option tcp-check\ntcp-check connect ssl',
    server: '127.0.0.1:{{tlsA}} check verify none inter 1s',
    expect: ['Health check for server tcp_connect_ssl/s1 succeeded, reason: Layer6 check passed, info: "(tcp-check)", check duration: Nms, status: 3/3 UP.'],
  },
  {
    name: 'http-check connect ssl alpn h2',
    be: 'http_connect_ssl',
    lines: `option httpchk\nhttp-check connect ssl alpn h2\nhttp-check send meth GET uri /health ${HOST}\nhttp-check expect status 200`,
    server: '127.0.0.1:{{tlsA}} check verify none inter 1s',
    expect: [OK('http_connect_ssl')],
  },
  {
    name: 'tcp-check connect ssl against a clear-text server: the step in the info',
    be: 'tcp_connect_ssl_bad',
    lines: 'option tcp-check\ntcp-check connect ssl',
    server: '127.0.0.1:{{plain}} check verify none inter 1s',
    expect: FAIL('tcp_connect_ssl_bad', 'Layer6 invalid response, info: "SSL handshake failure at step 1 of tcp-check (connect)"'),
  },
  {
    name: 'ssl on the server line and a check port: checks go in clear',
    be: 'tls_port',
    lines: 'option httpchk GET /',
    server: '127.0.0.1:{{tlsA}} ssl verify none check port {{origin}} inter 1s',
    expect: [OK('tls_port')],
  },
];

// Without `timeout check` a check has `inter` in all: on a loaded machine a few hundred ms may
// not be enough, so every backend gets one.
function backendOf(c: Case): string {
  const lines = c.lines.includes('timeout check') ? c.lines : `timeout check 2s\n${c.lines}`;
  const body = lines.split('\n').filter((l) => l !== '').map((l) => `    ${l}\n`).join('');
  return `backend ${c.be}\n${body}    server s1 ${c.server}\n`;
}

const CONFIG = `global
    log stdout format raw local0
defaults
    mode http
    log global
    option log-health-checks
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{{port:fe}}
    default_backend h2_nghttpd
${CASES.map(backendOf).join('')}`;

const H2C_CONFIG = (port: number): string => `defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
frontend h2s
    bind 127.0.0.1:${port} proto h2
    http-request return status 200 content-type text/plain string ok if { path /health }
    http-request return status 503 content-type text/plain string down if { path /down }
    http-request return status 404
`;

let ca: TestCa;
let other: TestCa;
let certA: IssuedCert;
let nghttpd: ProcHandle | null = null;
let h2c: ProcHandle | null = null;
let origin: Origin;
let tlsA: TlsOrigin;
let silent: RawServer;
let plain: RawServer;
const ports: Record<string, number> = {};
const sides = lazySides(CONFIG, () => ({
  values: { ...ports, cafile: ca.certFile, othercafile: other.certFile },
}));
const startedAt = new WeakMap<Side, number>();

before(async () => {
  ca = makeCa('check CA');
  other = makeCa('another CA');
  certA = ca.issue('a', { sans: ['a.test'] });
  origin = await startOrigin('origin');
  tlsA = await startTlsOrigin({ cert: certA.cert, key: certA.key, alpn: 'h2+h1' });
  silent = await startRawServer(async (c) => {
    c.socket.on('error', () => {});
    await c.waitClose(10000);
  });
  // A clear-text server that answers the ClientHello with an HTTP error and closes.
  plain = await startRawServer(async (c) => {
    c.socket.on('error', () => {});
    await c.waitFor((b) => b.length > 0, 5000);
    await c.write('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    c.end();
  });
  Object.assign(ports, { origin: origin.port, tlsA: tlsA.port, silent: silent.port, plain: plain.port });
  if (tools === false) {
    const dir = makeTempDir('sluice-check-nghttpd-');
    fs.writeFileSync(path.join(dir, 'health'), 'healthy\n');
    ports.nghttpd = await freePort();
    nghttpd = await startProcess('nghttpd', [requireBinary('nghttpd'), '--no-tls', '-a', '127.0.0.1', '-d', dir, String(ports.nghttpd)], { waitPorts: [ports.nghttpd], dir });
  } else ports.nghttpd = 1;
  ports.h2c = await freePort();
  h2c = await startHaproxy(H2C_CONFIG(ports.h2c), { waitPorts: [ports.h2c] });
});
after(async () => {
  await sides.stop();
  await nghttpd?.stop();
  await h2c?.stop();
  await origin?.close();
  await tlsA?.close();
  await silent?.close();
  await plain?.close();
});

describe('HTTP/2 and TLS checks', { concurrency: 8 }, () => {
  for (const c of CASES) {
    sideTest(
      c.name,
      sides,
      async (side, t) => {
        if (c.server.includes('{{nghttpd}}') && tools !== false) return t.skip(tools);
        if (!startedAt.has(side)) startedAt.set(side, Date.now());
        const expect = side.kind === 'sluice' && c.sluiceExpect !== undefined ? c.sluiceExpect : c.expect;
        await waitHealthLines(side.proc, expect.length, { be: c.be, timeoutMs: 5000 });
        const settle = startedAt.get(side)! + 1500 - Date.now();
        if (settle > 0) await pause(settle);
        assert.deepEqual(healthLines(side.proc, { be: c.be }), expect);
      },
      c.todo !== undefined ? { todo: c.todo } : {},
    );
  }
});

/** A proxy of `kind` with one backend checking `server` (a TLS origin of the test's own). */
async function tlsCase(kind: 'sluice' | 'haproxy', t: { after(fn: () => unknown): void }, alpn: TlsOriginAlpn, serverKw: string): Promise<{ side: Side; srv: TlsOrigin }> {
  const srv = await startTlsOrigin({ cert: certA.cert, key: certA.key, alpn });
  t.after(() => srv.close());
  const s = lazySides(
    `global
    log stdout format raw local0
defaults
    mode http
    log global
    option log-health-checks
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout check 2s
frontend fe
    bind 127.0.0.1:{{port:fe}}
    default_backend be
backend be
    option httpchk
    http-check send meth GET uri /health hdr host a.test
    server s1 127.0.0.1:{{srv}} ${serverKw}
`,
    () => ({ values: { srv: srv.port } }),
  );
  t.after(() => s.stop());
  return { side: await s.side(kind), srv };
}

// inter 1s: a TLS check must fit in `inter` without `timeout check`; with 200 ms, three slow
// handshakes on a saturated CI machine took a server DOWN between its first check and the traffic.
describe('what a TLS server sees of checks', { concurrency: 4 }, () => {
  kindTest('check-sni names the check connections; traffic goes without', async (kind, t) => {
    const { side, srv } = await tlsCase(kind, t, 'h1', 'ssl verify none check check-sni a.test inter 1000');
    await waitHealth(side.proc, 'succeeded');
    const r = await request(side.port('fe'), { path: '/traffic' });
    assert.equal(r.status, 200);
    const checks = srv.seen.filter((s) => s.path === '/health');
    assert.ok(checks.length >= 1);
    for (const s of checks) assert.equal(s.sni, 'a.test');
    assert.deepEqual(
      srv.seen.filter((s) => s.path === '/traffic').map((s) => s.sni),
      [false],
    );
  });

  kindTest('check-alpn h2: checks speak HTTP/2, traffic HTTP/1.1', async (kind, t) => {
    const { side, srv } = await tlsCase(kind, t, 'h2+h1', 'ssl verify none check check-alpn h2 inter 1000');
    await waitHealth(side.proc, 'succeeded');
    const r = await request(side.port('fe'), { path: '/traffic' });
    assert.equal(r.status, 200);
    const checks = srv.seen.filter((s) => s.path === '/health');
    assert.ok(checks.length >= 1);
    for (const s of checks) assert.deepEqual([s.alpn, s.version], ['h2', '2.0']);
    assert.deepEqual(
      srv.seen.filter((s) => s.path === '/traffic').map((s) => s.version),
      ['1.1'],
    );
  });

  // haproxy 2.6 offers the server's ALPN in the check's handshake (the SSL context is the
  // server's) but installs the HTTP/1 mux before it, so an h2 answer fails the check (L7RSP).
  // HAProxy fixed it in 3.3 (c6d33c09f "fix ALPN inheritance from server", marked for backport
  // to 2.4): checks then speak what the handshake chose, as traffic does. That is asserted here.
  kindTest(
    'no check-alpn: checks use the server alpn, as traffic does',
    async (kind, t) => {
      const { side, srv } = await tlsCase(kind, t, 'h2+h1', 'ssl verify none alpn h2 check inter 1000');
      await waitHealth(side.proc, 'succeeded');
      const r = await request(side.port('fe'), { path: '/traffic' });
      assert.equal(r.status, 200);
      const checks = srv.seen.filter((s) => s.path === '/health');
      assert.ok(checks.length >= 1);
      for (const s of checks) assert.deepEqual([s.alpn, s.version], ['h2', '2.0']);
      assert.deepEqual(
        srv.seen.filter((s) => s.path === '/traffic').map((s) => s.version),
        ['2.0'],
      );
    },
    {
      noReference: 'haproxy 2.6 speaks HTTP/1 over the h2 the server chose (a bug fixed in 3.3: c6d33c09f)',
    },
  );

  kindTest('SIGTERM stops the proxy at once while TLS HTTP/2 checks run', async (kind, t) => {
    const { side } = await tlsCase(kind, t, 'h2+h1', 'ssl verify none check check-alpn h2 inter 200');
    await waitHealth(side.proc, 'succeeded');
    const info = await side.proc.stop(3000);
    // haproxy dies by the SIGTERM itself, sluice exits 0: either way, not killed after the grace.
    assert.notEqual(info.signal, 'SIGKILL', `${kind} had to be killed`);
  });
});
