// TLS termination on `bind ... ssl` (issue #4, client half): which certificate SNI picks (exact
// names, SANs, `*.domain` wildcards, the default one, strict-sni, `crt DIR`, `crt-list` filters),
// client certificates (`verify required|optional` with `ca-file`), protocol versions, ciphers,
// ALPN, HTTP/1.1 and HTTP/2 through TLS, and the `~` HAProxy puts after the frontend name in the
// log. Every scenario runs against haproxy 2.6 with the same configuration too.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import {
  H2Client,
  bodyPattern,
  curl,
  makeCa,
  startOrigin,
  tlsProbe,
  type IssuedCert,
  type Origin,
  type TestCa,
  type TlsProbeOptions,
  type TlsProbeResult,
} from '../../harness/index.js';
import { lazySides, sideTest, type Side } from '../../harness/sides.js';
import { HTTPLOG, fields, lineFor } from '../log/lines.js';

const TEMPLATE = `global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{{port:sni}} ssl crt {{dflt}} crt {{a}} crt {{b}} crt {{w}} alpn h2,http/1.1
    bind 127.0.0.1:{{port:strict}} ssl strict-sni crt {{a}} alpn h2,http/1.1
    bind 127.0.0.1:{{port:dir}} ssl crt {{crtdir}}
    bind 127.0.0.1:{{port:list}} ssl crt-list {{list}}
    bind 127.0.0.1:{{port:split}} ssl crt {{split}}
    bind 127.0.0.1:{{port:required}} ssl crt {{a}} verify required ca-file {{cafile}}
    bind 127.0.0.1:{{port:optional}} ssl crt {{a}} verify optional ca-file {{cafile}}
    bind 127.0.0.1:{{port:min13}} ssl crt {{a}} ssl-min-ver TLSv1.3
    bind 127.0.0.1:{{port:force12}} ssl crt {{a}} force-tlsv12
    bind 127.0.0.1:{{port:no13}} ssl crt {{a}} no-tlsv13
    bind 127.0.0.1:{{port:minno}} ssl crt {{a}} ssl-min-ver TLSv1.2 no-tlsv12
    bind 127.0.0.1:{{port:ciphers}} ssl crt {{a}} ssl-max-ver TLSv1.2 ciphers ECDHE-ECDSA-AES256-GCM-SHA384
    bind 127.0.0.1:{{port:suites}} ssl crt {{a}} ciphersuites TLS_CHACHA20_POLY1305_SHA256
    bind 127.0.0.1:{{port:alpnh1}} ssl crt {{a}} alpn http/1.1
    bind 127.0.0.1:{{port:noalpn}} ssl crt {{a}}
    bind 127.0.0.1:{{port:expired}} ssl crt {{expired}}
    default_backend be
backend be
    server s1 127.0.0.1:{{origin}}
`;

let origin: Origin;
let ca: TestCa;
let other: TestCa;
const certs: Record<string, IssuedCert> = {};
let values: Record<string, string | number> = {};

before(async () => {
  origin = await startOrigin('o');
  ca = makeCa();
  other = makeCa('another CA');
  certs.dflt = ca.issue('dflt', { cn: 'default.test' });
  certs.a = ca.issue('a', { sans: ['a.test'] });
  certs.b = ca.issue('b', { cn: 'b.test', sans: ['b.test', 'www.b.test'] });
  certs.w = ca.issue('w', { sans: ['*.w.test'] });
  certs.expired = ca.issue('old', { sans: ['old.test'], expired: true });
  certs.client = ca.issue('client', { cn: 'client', client: true });
  certs.stranger = other.issue('stranger', { cn: 'stranger', client: true });
  // crt DIR: files load in name order, so 10-b is the default.
  ca.write('dir/10-b.pem', certs.b.combined);
  ca.write('dir/20-a.pem', certs.a.combined);
  // crt-list: the filters replace the certificate's own names; the first line is the default.
  const list = ca.write('list.txt', `# comment\n${certs.b.pemFile} alt.test\n${certs.a.pemFile} [ssl-min-ver TLSv1.2] a.test other.test\n`);
  values = {
    origin: origin.port,
    dflt: certs.dflt.pemFile,
    a: certs.a.pemFile,
    b: certs.b.pemFile,
    w: certs.w.pemFile,
    expired: certs.expired.pemFile,
    split: certs.a.certFile,
    crtdir: `${ca.dir}/dir`,
    list,
    cafile: ca.certFile,
  };
});

const sides = lazySides(TEMPLATE, () => ({ values }));
after(async () => {
  await sides.stop();
  await origin?.close();
});

const GET = 'GET /t?size=7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

function probe(side: Side, name: string, o: TlsProbeOptions = {}): Promise<TlsProbeResult> {
  return tlsProbe(side.port(name), { ca: ca.cert, ...o });
}

const show = (r: TlsProbeResult): string =>
  `handshake=${r.handshake} error=${r.error} cn=${r.peerCN} alpn=${r.alpn} proto=${r.protocol} cipher=${r.cipher} received=${JSON.stringify(r.received.slice(0, 40))}`;

/** The certificate served for `servername` has this CN. */
async function servedCN(side: Side, port: string, servername: string | undefined): Promise<string | null> {
  const r = await probe(side, port, servername === undefined ? {} : { servername });
  assert.equal(r.handshake, true, `${servername}: ${show(r)}`);
  return r.peerCN;
}

/** An HTTP/1.1 request over TLS was answered (200 with the 7-byte body). */
function answered(r: TlsProbeResult): boolean {
  return /^HTTP\/1\.1 200 /.test(r.received) && r.received.endsWith(bodyPattern(7).toString());
}

describe('SNI chooses the certificate', () => {
  sideTest('exact names, from the SAN list and the CN', sides, async (side) => {
    assert.equal(await servedCN(side, 'sni', 'a.test'), 'a.test');
    assert.equal(await servedCN(side, 'sni', 'b.test'), 'b.test');
    assert.equal(await servedCN(side, 'sni', 'www.b.test'), 'b.test');
    assert.equal(await servedCN(side, 'sni', 'default.test'), 'default.test');
    const r = await probe(side, 'sni', { servername: 'www.b.test' });
    assert.equal(r.authorized, true, 'the certificate verifies for the name asked');
  });

  sideTest('server names are matched without regard to case', sides, async (side) => {
    assert.equal(await servedCN(side, 'sni', 'A.TEST'), 'a.test');
  });

  sideTest('a wildcard covers one label, not two', sides, async (side) => {
    assert.equal(await servedCN(side, 'sni', 'x.w.test'), '*.w.test');
    assert.equal(await servedCN(side, 'sni', 'y.x.w.test'), 'default.test');
    assert.equal(await servedCN(side, 'sni', 'w.test'), 'default.test');
  });

  sideTest('an unknown name or no SNI gets the first certificate', sides, async (side) => {
    assert.equal(await servedCN(side, 'sni', 'unknown.test'), 'default.test');
    assert.equal(await servedCN(side, 'sni', undefined), 'default.test');
  });

  sideTest('strict-sni: a known name is served, unknown names and no SNI are refused', sides, async (side) => {
    const ok = await probe(side, 'strict', { servername: 'a.test', send: GET });
    assert.ok(answered(ok), show(ok));
    for (const sn of ['unknown.test', undefined]) {
      const r = await probe(side, 'strict', sn === undefined ? { send: GET } : { servername: sn, send: GET });
      assert.equal(r.handshake, false, `${sn}: ${show(r)}`);
      assert.equal(r.received, '');
    }
  });

  sideTest('strict-sni: the refusal is the TLS alert unrecognized_name', sides, async (side) => {
    for (const sn of ['unknown.test', undefined]) {
      const r = await probe(side, 'strict', sn === undefined ? {} : { servername: sn });
      assert.match(r.error ?? '', /unrecognized name|alert number 112/, `${sn}: ${show(r)}`);
    }
  }, { todo: 'sluice closes without an alert for an unknown name and sends handshake_failure without SNI' });

  sideTest('crt DIR: every file of the folder, the first in name order is the default', sides, async (side) => {
    assert.equal(await servedCN(side, 'dir', 'a.test'), 'a.test');
    assert.equal(await servedCN(side, 'dir', 'www.b.test'), 'b.test');
    assert.equal(await servedCN(side, 'dir', 'unknown.test'), 'b.test');
  });

  sideTest('crt-list: the SNI filters of each line, the first line is the default', sides, async (side) => {
    assert.equal(await servedCN(side, 'list', 'alt.test'), 'b.test');
    assert.equal(await servedCN(side, 'list', 'other.test'), 'a.test');
    assert.equal(await servedCN(side, 'list', 'a.test'), 'a.test');
    // b.test is not among the filters of b's line: the default answers, which is b anyway.
    assert.equal(await servedCN(side, 'list', 'unknown.test'), 'b.test');
  });

  sideTest('certificate and key in two files (FILE and FILE.key)', sides, async (side) => {
    const r = await probe(side, 'split', { servername: 'a.test', send: GET });
    assert.equal(r.peerCN, 'a.test');
    assert.ok(answered(r), show(r));
  });

  sideTest('an expired certificate is served as it is (the client decides)', sides, async (side) => {
    const r = await probe(side, 'expired', { servername: 'old.test' });
    assert.equal(r.handshake, true, show(r));
    assert.equal(r.peerCN, 'old.test');
    assert.equal(r.authorized, false);
  });
});

describe('client certificates', () => {
  sideTest('verify required: refused without a certificate, served with one from ca-file', sides, async (side) => {
    const none = await probe(side, 'required', { servername: 'a.test', send: GET });
    assert.ok(!answered(none), `no client certificate: ${show(none)}`);
    assert.equal(none.received, '');
    const good = await probe(side, 'required', { servername: 'a.test', send: GET, cert: certs.client!.cert, key: certs.client!.key });
    assert.ok(answered(good), `client certificate from the CA: ${show(good)}`);
    const bad = await probe(side, 'required', { servername: 'a.test', send: GET, cert: certs.stranger!.cert, key: certs.stranger!.key });
    assert.equal(bad.received, '', `certificate from another CA: ${show(bad)}`);
  });

  sideTest('verify required: a certificate from another CA gets the alert unknown_ca', sides, async (side) => {
    const bad = await probe(side, 'required', { servername: 'a.test', send: GET, cert: certs.stranger!.cert, key: certs.stranger!.key });
    assert.match(bad.error ?? '', /unknown ca|alert number 48/, show(bad));
  }, { todo: 'sluice closes the connection without a TLS alert' });

  sideTest('verify optional: served without a certificate and with a good one', sides, async (side) => {
    const none = await probe(side, 'optional', { servername: 'a.test', send: GET });
    assert.ok(answered(none), show(none));
    const good = await probe(side, 'optional', { servername: 'a.test', send: GET, cert: certs.client!.cert, key: certs.client!.key });
    assert.ok(answered(good), show(good));
  });

  sideTest('verify optional: a certificate that does not verify is refused', sides, async (side) => {
    const bad = await probe(side, 'optional', { servername: 'a.test', send: GET, cert: certs.stranger!.cert, key: certs.stranger!.key });
    assert.ok(!answered(bad), show(bad));
    assert.match(bad.error ?? '', /unknown ca|alert number 48/, show(bad));
  }, { todo: 'sluice refuses the certificate by closing the connection after the handshake, without a TLS alert (node:tls has no server-side verify callback)' });
});

describe('protocol versions and ciphers', () => {
  sideTest('ssl-min-ver TLSv1.3: a TLS 1.2 client is refused, TLS 1.3 is served', sides, async (side) => {
    const old = await probe(side, 'min13', { servername: 'a.test', maxVersion: 'TLSv1.2' });
    assert.equal(old.handshake, false, show(old));
    assert.match(old.error ?? '', /protocol version|alert number 70/);
    const cur = await probe(side, 'min13', { servername: 'a.test', send: GET });
    assert.equal(cur.protocol, 'TLSv1.3');
    assert.ok(answered(cur), show(cur));
  });

  sideTest('ssl-min-ver TLSv1.3: curl --tls-max 1.2 fails, curl --tlsv1.3 works', sides, async (side) => {
    const port = side.port('min13');
    const base = ['--cacert', ca.certFile, '--resolve', `a.test:${port}:127.0.0.1`, `https://a.test:${port}/c?size=7`];
    const old = await curl(['--http1.1', '--tls-max', '1.2', ...base]);
    assert.equal(old.exitCode, 35, `curl: ${old.exitCode} ${old.stderr}`);
    const cur = await curl(['--http1.1', '--tlsv1.3', ...base]);
    assert.equal(cur.exitCode, 0, cur.stderr);
    assert.equal(cur.status, 200);
  });

  sideTest('force-tlsv12: TLS 1.2 only', sides, async (side) => {
    const r = await probe(side, 'force12', { servername: 'a.test' });
    assert.equal(r.protocol, 'TLSv1.2', show(r));
    const only13 = await probe(side, 'force12', { servername: 'a.test', minVersion: 'TLSv1.3' });
    assert.equal(only13.handshake, false, show(only13));
  });

  sideTest('no-tlsv13: TLS 1.2 is negotiated', sides, async (side) => {
    const r = await probe(side, 'no13', { servername: 'a.test' });
    assert.equal(r.protocol, 'TLSv1.2', show(r));
  });

  sideTest('ssl-min-ver with a no-tlsv1x flag: the flag is ignored, as haproxy warns', sides, async (side) => {
    const r = await probe(side, 'minno', { servername: 'a.test', maxVersion: 'TLSv1.2' });
    assert.equal(r.handshake, true, show(r));
    assert.equal(r.protocol, 'TLSv1.2');
  });

  sideTest('ciphers: the TLS 1.2 cipher list is used', sides, async (side) => {
    const r = await probe(side, 'ciphers', { servername: 'a.test' });
    assert.equal(r.protocol, 'TLSv1.2', show(r));
    assert.equal(r.cipher, 'ECDHE-ECDSA-AES256-GCM-SHA384');
    const other = await probe(side, 'ciphers', { servername: 'a.test', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    assert.equal(other.handshake, false, `a cipher outside the list: ${show(other)}`);
  });

  sideTest('ciphersuites: the TLS 1.3 suite list is used', sides, async (side) => {
    const r = await probe(side, 'suites', { servername: 'a.test' });
    assert.equal(r.protocol, 'TLSv1.3', show(r));
    assert.equal(r.cipher, 'TLS_CHACHA20_POLY1305_SHA256');
  });
});

describe('ALPN and the protocols over TLS', () => {
  sideTest('alpn http/1.1: a client offering h2 and http/1.1 gets HTTP/1.1', sides, async (side) => {
    const r = await probe(side, 'alpnh1', { servername: 'a.test', ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(r.alpn, 'http/1.1', show(r));
    const port = side.port('alpnh1');
    const c = await curl(['--http2', '--cacert', ca.certFile, '--resolve', `a.test:${port}:127.0.0.1`, `https://a.test:${port}/c?size=7`]);
    assert.equal(c.exitCode, 0, c.stderr);
    assert.equal(c.httpVersion, '1.1');
  });

  sideTest('alpn h2,http/1.1: the client preference h2 wins; http/1.1 alone is served HTTP/1.1', sides, async (side) => {
    const r2 = await probe(side, 'sni', { servername: 'a.test', ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(r2.alpn, 'h2', show(r2));
    const r1 = await probe(side, 'sni', { servername: 'a.test', ALPNProtocols: ['http/1.1'], send: GET });
    assert.equal(r1.alpn, 'http/1.1');
    assert.ok(answered(r1), show(r1));
  });

  sideTest('no alpn on an HTTP bind: h2 and http/1.1 are offered (HAProxy 2.8 and later)', sides, async (side) => {
    const r = await probe(side, 'noalpn', { servername: 'a.test', ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(r.alpn, 'h2', show(r));
    const n = await probe(side, 'noalpn', { servername: 'a.test', send: GET });
    assert.equal(n.alpn, false);
    assert.ok(answered(n), `a client without ALPN speaks HTTP/1.1: ${show(n)}`);
  }, { noReference: 'haproxy 2.6 offers no ALPN when the bind has no alpn (2.8 offers h2,http/1.1)' });

  sideTest('HTTP/2 over TLS: many streams and a large body', sides, async (side) => {
    const c = await H2Client.connect(side.port('sni'), { tls: { servername: 'b.test', ca: ca.cert } });
    try {
      const rs = await Promise.all([c.request({ path: '/big?size=2000000' }), ...Array.from({ length: 10 }, (_, i) => c.request({ path: `/s${i}?size=${i}` }))]);
      assert.equal(rs[0]!.status, 200);
      assert.ok(rs[0]!.ended && rs[0]!.body.equals(bodyPattern(2_000_000)));
      rs.slice(1).forEach((r, i) => assert.ok(r.ended && r.body.equals(bodyPattern(i)), `stream ${i}`));
      const e = JSON.parse((await c.request({ path: '/e?echo=1' })).body.toString()) as { headers: Array<[string, string]> };
      assert.deepEqual(e.headers[0], ['host', `b.test:${side.port('sni')}`]);
    } finally {
      c.destroy();
    }
  });
});

describe('log lines over TLS', () => {
  sideTest('httplog: the frontend name ends with ~, an HTTP/2 request shows its https URI', sides, async (side) => {
    const port = side.port('sni');
    const from = side.proc.mark();
    const c = await H2Client.connect(port, { tls: { servername: 'a.test', ca: ca.cert } });
    const cp = c.session.socket.localPort!;
    try {
      assert.equal((await c.request({ path: '/logged?size=5' })).status, 200);
    } finally {
      c.destroy();
    }
    const f = fields(HTTPLOG, await lineFor(side.proc, cp, 3000, from));
    assert.equal(f.r, `GET https://a.test:${port}/logged?size=5 HTTP/2.0`);
    assert.equal(f.ST, '200');
    assert.equal(f.ft, 'fe~');
  });

  sideTest('httplog: an HTTP/1.1 request over TLS is logged in origin form', sides, async (side) => {
    const from = side.proc.mark();
    const r = await probe(side, 'sni', { servername: 'a.test', send: GET, ALPNProtocols: ['http/1.1'] });
    assert.ok(answered(r), show(r));
    const line = await side.proc.waitForLine((l) => l.includes('"GET /t?size=7 HTTP/1.1"'), 3000, from);
    const f = fields(HTTPLOG, line);
    assert.equal(f.ST, '200');
    assert.equal(f.b, 'be');
  });
});

const GLOBAL_TEMPLATE = (global: string, crt: string): string => `global
${global}
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{{port:tls}} ssl crt ${crt}
    default_backend be
backend be
    server s1 127.0.0.1:{{origin}}
`;

describe('global TLS settings', () => {
  const minver = lazySides(GLOBAL_TEMPLATE('    ssl-default-bind-options ssl-min-ver TLSv1.3', '{{a}}'), () => ({ values }));
  const base = lazySides(GLOBAL_TEMPLATE('    crt-base {{cadir}}', 'a.pem'), () => ({ values: { ...values, cadir: ca.dir } }));
  after(async () => {
    await minver.stop();
    await base.stop();
  });

  sideTest('ssl-default-bind-options ssl-min-ver TLSv1.3 applies to the binds', minver, async (side) => {
    const old = await probe(side, 'tls', { servername: 'a.test', maxVersion: 'TLSv1.2' });
    assert.equal(old.handshake, false, show(old));
    const cur = await probe(side, 'tls', { servername: 'a.test', send: GET });
    assert.ok(answered(cur), show(cur));
  });

  sideTest('crt-base: relative crt paths are read from it', base, async (side) => {
    const r = await probe(side, 'tls', { servername: 'a.test', send: GET });
    assert.equal(r.peerCN, 'a.test', show(r));
    assert.ok(answered(r), show(r));
  });
});

const FETCH_TEMPLATE = `defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{{port:tls}} ssl crt {{a}} crt {{b}} alpn h2,http/1.1
    bind 127.0.0.1:{{port:clear}}
    http-request redirect scheme https if !{ ssl_fc } { path_beg /r }
    http-request set-header x-ssl %[ssl_fc]
    http-request set-header x-sni %[ssl_fc_sni]
    use_backend be_b if { ssl_fc_sni b.test }
    default_backend be
backend be
    server s1 127.0.0.1:{{origin}}
backend be_b
    server s2 127.0.0.1:{{originB}}
`;

describe('TLS sample fetches', () => {
  let originB: Origin;
  const fetches = lazySides(FETCH_TEMPLATE, () => ({ values: { ...values, originB: originB.port } }));
  before(async () => {
    originB = await startOrigin('ob');
  });
  after(async () => {
    await fetches.stop();
    await originB?.close();
  });

  sideTest('redirect scheme https if !{ ssl_fc }: cleartext is redirected, TLS is served', fetches, async (side) => {
    const clear = await curl([`http://127.0.0.1:${side.port('clear')}/r?size=7`]);
    assert.equal(clear.status, 302);
    assert.equal(clear.header('location'), `https://127.0.0.1:${side.port('clear')}/r?size=7`);
    const r = await probe(side, 'tls', { servername: 'a.test', send: 'GET /r?size=7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' });
    assert.ok(answered(r), show(r));
  });

  sideTest('ssl_fc and ssl_fc_sni, over HTTP/1.1 and HTTP/2', fetches, async (side) => {
    const r = await probe(side, 'tls', { servername: 'a.test', ALPNProtocols: ['http/1.1'], send: 'GET /e?echo=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' });
    const body = r.received.slice(r.received.indexOf('\r\n\r\n') + 4);
    assert.match(r.received, /^HTTP\/1\.1 200 /, show(r));
    const e1 = JSON.parse(body) as { headers: Array<[string, string]> };
    assert.deepEqual(e1.headers.filter(([n]) => n.toLowerCase().startsWith('x-')).map(([n, v]) => `${n.toLowerCase()}: ${v}`), ['x-ssl: 1', 'x-sni: a.test']);
    const c = await H2Client.connect(side.port('tls'), { tls: { servername: 'a.test', ca: ca.cert } });
    try {
      const e2 = JSON.parse((await c.request({ path: '/e?echo=1' })).body.toString()) as { headers: Array<[string, string]> };
      assert.deepEqual(e2.headers.filter(([n]) => n.startsWith('x-')).map(([n, v]) => `${n}: ${v}`), ['x-ssl: 1', 'x-sni: a.test']);
    } finally {
      c.destroy();
    }
  });

  sideTest('use_backend on ssl_fc_sni routes by server name', fetches, async (side) => {
    const a = await probe(side, 'tls', { servername: 'a.test', send: GET });
    assert.match(a.received, /\r\nx-server: o\r\n/i, show(a));
    const b = await probe(side, 'tls', { servername: 'b.test', send: GET });
    assert.match(b.received, /\r\nx-server: ob\r\n/i, show(b));
  });
});

