// TLS in `mode tcp`: terminated on `bind ... ssl crt` and forwarded in clear, originated towards
// `server ... ssl` (verified, with `sni`), both at once (re-encryption passing the client's SNI
// on with `sni ssl_fc_sni`), half-closes forwarded through TLS, and the TLS fields of the TCP
// log. Every scenario also runs on haproxy 2.6 with the same configuration.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { after, before, describe } from 'node:test';
import { makeCa, type IssuedCert, type TestCa } from '../../harness/index.js';
import { lazySides, sideTest } from '../../harness/sides.js';

const TEMPLATE = `global
    log stdout format raw local0
defaults
    mode tcp
    log global
    log-format "%ft %b/%s %ts %sslv %B %rc %Tc %Tt"
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend term
    bind 127.0.0.1:{{port:term}} ssl crt {{front}}
    default_backend plain
frontend orig
    bind 127.0.0.1:{{port:orig}}
    default_backend secure
frontend both
    bind 127.0.0.1:{{port:both}} ssl crt {{front}}
    default_backend passsni
frontend badca
    bind 127.0.0.1:{{port:badca}}
    default_backend wrongname
frontend httpbad
    mode http
    bind 127.0.0.1:{{port:httpbad}}
    default_backend wronghttp
backend plain
    server s1 127.0.0.1:{{plain}}
backend secure
    server s1 127.0.0.1:{{secure}} ssl verify required ca-file {{ca}} sni str(back.test)
backend passsni
    server s1 127.0.0.1:{{secure}} ssl verify none sni ssl_fc_sni
backend wrongname
    server s1 127.0.0.1:{{secure}} ssl verify required ca-file {{ca}} sni str(other.test)
backend wronghttp
    mode http
    server s1 127.0.0.1:{{secure}} ssl verify required ca-file {{ca}} sni str(other.test)
`;

let ca: TestCa;
let front: IssuedCert;
let back: IssuedCert;
let plain: net.Server;
let secure: tls.Server;
/** SNIs the TLS server saw, in order. */
const snis: Array<string | false> = [];

/** An echo server that answers "<bytes>|FIN" once the client's FIN arrives: half-closes must pass. */
function echoUntilFin(sock: net.Socket): void {
  const got: Buffer[] = [];
  sock.on('data', (d: Buffer) => got.push(d));
  sock.on('end', () => sock.end(Buffer.concat([Buffer.concat(got), Buffer.from('|FIN')])));
  sock.on('error', () => {});
}

before(async () => {
  ca = makeCa();
  front = ca.issue('front', { sans: ['front.test', 'back.test'] });
  back = ca.issue('back', { sans: ['back.test'] });
  plain = net.createServer({ allowHalfOpen: true }, echoUntilFin);
  secure = tls.createServer({ cert: back.cert, key: back.key, allowHalfOpen: true }, (s) => {
    snis.push(s.servername ?? false);
    echoUntilFin(s);
  });
  secure.on('tlsClientError', () => {});
  await Promise.all([plain, secure].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))));
});

const sides = lazySides(TEMPLATE, () => ({
  values: {
    front: front.pemFile,
    ca: ca.certFile,
    plain: (plain.address() as net.AddressInfo).port,
    secure: (secure.address() as net.AddressInfo).port,
  },
}));

after(async () => {
  await sides.stop();
  plain.close();
  secure.close();
});

/** Sends `msg`, half-closes, and returns everything received until the proxy closes. */
async function exchange(sock: net.Socket, msg: string): Promise<string> {
  const chunks: Buffer[] = [];
  sock.on('data', (d: Buffer) => chunks.push(d));
  const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
  sock.on('error', () => {});
  sock.end(msg);
  const timer = setTimeout(() => sock.destroy(), 5000);
  await closed;
  clearTimeout(timer);
  return Buffer.concat(chunks).toString();
}

function tlsTo(port: number, servername: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, ca: ca.cert, allowHalfOpen: true } as tls.ConnectionOptions, () => resolve(s));
    s.once('error', reject);
  });
}

function plainTo(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(s));
    s.once('error', reject);
  });
}

describe('TLS in TCP mode', () => {
  sideTest('bind ssl: TLS terminated, the bytes and the half-close reach a plain server; the log has the TLS version', sides, async (side) => {
    const from = side.proc.mark();
    const c = await tlsTo(side.port('term'), 'front.test');
    assert.equal(c.authorized, true, 'the certificate of the bind verifies');
    assert.equal(await exchange(c, 'hello over tls'), 'hello over tls|FIN');
    const line = await side.proc.waitForLine((l) => l.startsWith('term~ '), 3000, from);
    assert.match(line, /^term~ plain\/s1 -- TLSv1\.3 18 0 /);
  });

  sideTest('server ssl verify required with sni: the server gets TLS with that name, the client talks in clear', sides, async (side) => {
    const n = snis.length;
    const c = await plainTo(side.port('orig'));
    assert.equal(await exchange(c, 'clear to tls'), 'clear to tls|FIN');
    assert.deepEqual(snis.slice(n), ['back.test']);
  });

  sideTest('TLS on both sides, sni ssl_fc_sni: the client\'s server name is passed on', sides, async (side) => {
    const n = snis.length;
    const c = await tlsTo(side.port('both'), 'back.test');
    assert.equal(await exchange(c, 'reencrypted'), 'reencrypted|FIN');
    assert.deepEqual(snis.slice(n), ['back.test']);
  });

  sideTest('a server certificate that does not match the sni: no connection, the client is closed', sides, async (side) => {
    const from = side.proc.mark();
    const c = await plainTo(side.port('badca'));
    assert.equal(await exchange(c, 'x'), '', 'nothing reaches the client');
    const line = await side.proc.waitForLine((l) => l.startsWith('badca '), 3000, from);
    // Three retries (the default), each at once: a refused handshake is not a refused connection,
    // which alone earns HAProxy's turn-around pause (three of them would take 3 s).
    const m = /^badca wrongname\/s1 SC - 0 3 -1 (\d+)$/.exec(line);
    assert.ok(m !== null, line);
    assert.ok(Number(m[1]) < 2000, `retried without pauses: ${line}`);
  });

  sideTest('the same in HTTP mode: 503 after three retries made at once', sides, async (side) => {
    const from = side.proc.mark();
    const c = await plainTo(side.port('httpbad'));
    assert.match(await exchange(c, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n'), /^HTTP\/1\.[01] 503 /);
    const line = await side.proc.waitForLine((l) => l.startsWith('httpbad '), 3000, from);
    const m = /^httpbad wronghttp\/s1 SC - \d+ 3 -1 (\d+)$/.exec(line);
    assert.ok(m !== null, line);
    assert.ok(Number(m[1]) < 2000, `retried without pauses: ${line}`);
  });
});
