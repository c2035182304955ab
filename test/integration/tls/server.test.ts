// TLS towards servers (`server ... ssl`): verification of the server's certificate (`verify`,
// `ca-file`, an unknown CA, an expired certificate), its name (`sni`, `verifyhost`, neither),
// the SNI sent (`sni req.hdr(host)`) and connections kept apart per SNI, a client certificate
// (`crt`), protocol versions, `default-server` / `no-ssl`, `ssl-server-verify`, reuse of one TLS
// connection by the requests of a client connection, and `-c` on broken server files. Every
// scenario runs against haproxy 2.6 with the same configuration too.
import assert from 'node:assert/strict';
import * as https from 'node:https';
import type * as net from 'node:net';
import type * as tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import {
  HttpClient,
  makeCa,
  runCheck,
  skipUnless,
  startOrigin,
  startTlsOrigin,
  type IssuedCert,
  type Origin,
  type TestCa,
  type TlsOrigin,
  type TlsSeen,
} from '../../harness/index.js';
import { lazySides, sideTest, type Side } from '../../harness/sides.js';
import { HTTPLOG, fields, lineFor } from '../log/lines.js';

/** A TLS server limited to some protocol versions, answering the version it negotiated. */
interface VersionOrigin {
  port: number;
  close(): Promise<void>;
}

// The lead's TLS origin has no version limits nor reports the TLS version: this one does both.
async function startVersionOrigin(cert: IssuedCert, v: { minVersion?: tls.SecureVersion; maxVersion?: tls.SecureVersion }): Promise<VersionOrigin> {
  const sockets = new Set<net.Socket>();
  const server = https.createServer({ cert: cert.cert, key: cert.key, ...v }, (req, res) => {
    req.resume();
    const body = JSON.stringify({ protocol: (req.socket as tls.TLSSocket).getProtocol() });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.on('secureConnection', (s: tls.TLSSocket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One frontend per scenario, on port NAME, to a backend of these server lines. */
const ROUTES: Record<string, string> = {
  vnone: 'server s1 127.0.0.1:{{other}} ssl verify none',
  good: 'server s1 127.0.0.1:{{a}} ssl verify required ca-file {{cafile}}',
  othca: 'server s1 127.0.0.1:{{other}} ssl verify required ca-file {{cafile}}',
  dfltreq: 'server s1 127.0.0.1:{{other}} ssl ca-file {{cafile}}',
  expired: 'server s1 127.0.0.1:{{expired}} ssl verify required ca-file {{cafile}}',
  sniok: 'server s1 127.0.0.1:{{a}} ssl verify required ca-file {{cafile}} sni str(a.test)',
  snibad: 'server s1 127.0.0.1:{{a}} ssl verify required ca-file {{cafile}} sni str(b.test)',
  vhok: 'server s1 127.0.0.1:{{a}} ssl verify required ca-file {{cafile}} verifyhost a.test',
  vhbad: 'server s1 127.0.0.1:{{a}} ssl verify required ca-file {{cafile}} verifyhost b.test',
  snivhok: 'server s1 127.0.0.1:{{a}} ssl verify required ca-file {{cafile}} sni str(a.test) verifyhost b.test',
  snivhbad: 'server s1 127.0.0.1:{{a}} ssl verify required ca-file {{cafile}} sni str(b.test) verifyhost a.test',
  snihost: 'server s1 127.0.0.1:{{a}} ssl verify none sni req.hdr(host)',
  mtls: 'server s1 127.0.0.1:{{mtls}} ssl verify required ca-file {{cafile}} crt {{client}}',
  mtlsno: 'server s1 127.0.0.1:{{mtls}} ssl verify required ca-file {{cafile}} ssl-max-ver TLSv1.2',
  mtlsno13: 'server s1 127.0.0.1:{{mtls}} ssl verify required ca-file {{cafile}}',
  min13any: 'server s1 127.0.0.1:{{anyver}} ssl verify none ssl-min-ver TLSv1.3',
  min13old: 'server s1 127.0.0.1:{{only12}} ssl verify none ssl-min-ver TLSv1.3',
  max12any: 'server s1 127.0.0.1:{{anyver}} ssl verify none ssl-max-ver TLSv1.2',
  max12new: 'server s1 127.0.0.1:{{only13}} ssl verify none ssl-max-ver TLSv1.2',
  dfltsrv: 'default-server ssl verify none\n    server s1 127.0.0.1:{{other}}',
  nossl: 'default-server ssl verify none\n    server s1 127.0.0.1:{{plain}} no-ssl',
  reuse: 'server s1 127.0.0.1:{{a}} ssl verify none',
};

const HEAD = (global: string): string => `global
    log stdout format raw local0
${global}
defaults
    mode http
    log global
    option httplog
    # A failed connection is retried after a pause of up to 1 s: refusals are answered at once.
    retries 0
    timeout connect 1s
    timeout client 10s
    timeout server 10s
`;

function template(global: string, routes: Record<string, string>): string {
  let t = HEAD(global);
  for (const [name, line] of Object.entries(routes)) {
    t += `frontend fe_${name}\n    bind 127.0.0.1:{{port:${name}}}\n    default_backend be_${name}\n`;
    t += `backend be_${name}\n    ${line}\n`;
  }
  return t;
}

let ca: TestCa;
let other: TestCa;
const certs: Record<string, IssuedCert> = {};
const tlsOrigins: TlsOrigin[] = [];
const verOrigins: VersionOrigin[] = [];
let oA: TlsOrigin;
let oMtls: TlsOrigin;
let plain: Origin;
let values: Record<string, string | number> = {};

before(async () => {
  ca = makeCa();
  other = makeCa('another CA');
  certs.a = ca.issue('a', { sans: ['a.test'] });
  certs.other = other.issue('other', { sans: ['a.test'] });
  certs.expired = ca.issue('old', { sans: ['a.test'], expired: true });
  certs.client = ca.issue('client', { cn: 'client', client: true });
  const start = async (cert: IssuedCert, clientCa?: string): Promise<TlsOrigin> => {
    const o = await startTlsOrigin({ cert: cert.cert, key: cert.key, alpn: 'h1', ...(clientCa !== undefined ? { clientCa } : {}) });
    tlsOrigins.push(o);
    return o;
  };
  oA = await start(certs.a);
  const oOther = await start(certs.other);
  const oExpired = await start(certs.expired);
  oMtls = await start(certs.a, ca.cert);
  for (const v of [{}, { maxVersion: 'TLSv1.2' as const }, { minVersion: 'TLSv1.3' as const }]) verOrigins.push(await startVersionOrigin(certs.a, v));
  plain = await startOrigin('plain');
  values = {
    a: oA.port,
    other: oOther.port,
    expired: oExpired.port,
    mtls: oMtls.port,
    anyver: verOrigins[0]!.port,
    only12: verOrigins[1]!.port,
    only13: verOrigins[2]!.port,
    plain: plain.port,
    cafile: ca.certFile,
    client: certs.client.pemFile,
  };
});

const sides = lazySides(template('', ROUTES), () => ({ values }));
after(async () => {
  await sides.stop();
  for (const o of tlsOrigins) await o.close();
  for (const o of verOrigins) await o.close();
  await plain?.close();
});

interface Got {
  status: number;
  text: string;
  /** The client's source port, which starts its log line. */
  cport: number;
  header(name: string): string | undefined;
}

/** Requests on one client connection to the frontend NAME, in order. */
async function exchange(side: Side, name: string, reqs: Array<{ host?: string; path?: string }>): Promise<Got[]> {
  const c = await HttpClient.connect(side.port(name));
  const cport = c.socket.localPort!;
  try {
    const out: Got[] = [];
    for (const r of reqs) {
      const res = await c.request({ path: r.path ?? '/', ...(r.host !== undefined ? { headers: { Host: r.host } } : {}) });
      out.push({ status: res.status, text: res.text, cport, header: (n) => res.header(n) });
    }
    return out;
  } finally {
    await c.close();
  }
}

async function get(side: Side, name: string, host?: string): Promise<Got> {
  return (await exchange(side, name, [host !== undefined ? { host } : {}]))[0]!;
}

const seenOf = (g: Got): TlsSeen => {
  assert.equal(g.status, 200, g.text);
  return JSON.parse(g.text) as TlsSeen;
};

/** The request was refused with 503 because the server's connection failed: `SC--` in the log. */
async function refused(side: Side, name: string): Promise<void> {
  const from = side.proc.mark();
  const g = await get(side, name);
  assert.equal(g.status, 503, g.text);
  const f = fields(HTTPLOG, await lineFor(side.proc, g.cport, 3000, from));
  assert.equal(f.ST, '503');
  assert.equal(f.s, 's1');
  assert.equal(f.tsc!.slice(0, 2), 'SC', `termination state ${f.tsc}`);
}

describe("verifying the server's certificate", () => {
  sideTest('verify none: a certificate from an unknown CA is accepted', sides, async (side) => {
    const s = seenOf(await get(side, 'vnone'));
    assert.equal(s.version, '1.1');
  });

  sideTest('verify required ca-file: a certificate from that CA is accepted', sides, async (side) => {
    seenOf(await get(side, 'good'));
  });

  sideTest('verify required: a certificate from another CA gives 503, SC in the log', sides, async (side) => {
    await refused(side, 'othca');
  });

  sideTest('verify is required by default: a certificate from another CA gives 503', sides, async (side) => {
    await refused(side, 'dfltreq');
  });

  sideTest('verify required: an expired certificate gives 503', sides, async (side) => {
    await refused(side, 'expired');
  });
});

describe("checking the server's name", () => {
  sideTest('sni str(a.test) against a certificate for a.test: accepted, the server sees that SNI', sides, async (side) => {
    const s = seenOf(await get(side, 'sniok'));
    assert.equal(s.sni, 'a.test');
  });

  sideTest('sni str(b.test) against a certificate for a.test: 503', sides, async (side) => {
    await refused(side, 'snibad');
  });

  sideTest('verifyhost a.test without sni: accepted, no SNI is sent', sides, async (side) => {
    const s = seenOf(await get(side, 'vhok'));
    assert.equal(s.sni, false);
  });

  sideTest('verifyhost b.test without sni against a certificate for a.test: 503', sides, async (side) => {
    await refused(side, 'vhbad');
  });

  sideTest('sni str(a.test) verifyhost b.test: the SNI is the name checked, verifyhost is ignored', sides, async (side) => {
    const s = seenOf(await get(side, 'snivhok'));
    assert.equal(s.sni, 'a.test');
  });

  sideTest('sni str(b.test) verifyhost a.test: the SNI b.test is checked, 503', sides, async (side) => {
    await refused(side, 'snivhbad');
  });

  // The origin's certificate names a.test, not 127.0.0.1: only its chain can be checked.
  sideTest('a server addressed by IP, without sni nor verifyhost: the chain alone is checked', sides, async (side) => {
    const s = seenOf(await get(side, 'good'));
    assert.equal(s.sni, false);
  });
});

describe('the SNI sent', () => {
  sideTest('sni req.hdr(host): each Host is its SNI, and a connection serves one SNI only', sides, async (side) => {
    const [a1, b1, a2, b2] = (await exchange(side, 'snihost', [{ host: 'a.test' }, { host: 'b.test' }, { host: 'a.test' }, { host: 'b.test' }])).map(seenOf);
    assert.deepEqual([a1!.sni, b1!.sni, a2!.sni, b2!.sni], ['a.test', 'b.test', 'a.test', 'b.test']);
    assert.equal(a1!.host, 'a.test');
    assert.notEqual(a1!.conn, b1!.conn, 'b.test needs a connection of its own');
    assert.equal(a2!.conn, a1!.conn, 'a.test again: its connection is taken again');
    // Whatever connection a request goes on, its SNI is the request's own.
    const snis = new Map<number, string | false>();
    for (const s of [a1!, b1!, a2!, b2!]) {
      const prev = snis.get(s.conn);
      assert.ok(prev === undefined || prev === s.sni, `connection ${s.conn} used for ${prev} and ${s.sni}`);
      snis.set(s.conn, s.sni);
    }
  });

  sideTest('sni req.hdr(host): a second client with the same Host sends the same SNI', sides, async (side) => {
    const s = seenOf(await get(side, 'snihost', 'b.test'));
    assert.equal(s.sni, 'b.test');
  });
});

describe('client certificate (crt)', () => {
  sideTest('crt: the server sees the certificate and its CN', sides, async (side) => {
    const s = seenOf(await get(side, 'mtls'));
    assert.equal(s.clientCn, 'client');
  });

  sideTest('without crt, a server asking for a certificate refuses the TLS 1.2 handshake: 503', sides, async (side) => {
    await refused(side, 'mtlsno');
  });

  // In TLS 1.3 the client's handshake is over before the server judges its certificate: the
  // refusal may come before the request is sent (503) or after (502), as with haproxy.
  sideTest('without crt, over TLS 1.3: 502 or 503, and no request reaches the server', sides, async (side) => {
    const n = oMtls.seen.length;
    const g = await get(side, 'mtlsno13');
    assert.ok(g.status === 502 || g.status === 503, `status ${g.status}`);
    assert.equal(oMtls.seen.length, n);
  });
});

describe('protocol versions', () => {
  sideTest('ssl-min-ver TLSv1.3: TLS 1.3 is used; a server stuck at TLS 1.2 gives 503', sides, async (side) => {
    const g = await get(side, 'min13any');
    assert.equal(g.status, 200, g.text);
    assert.equal((JSON.parse(g.text) as { protocol: string }).protocol, 'TLSv1.3');
    await refused(side, 'min13old');
  });

  sideTest('ssl-max-ver TLSv1.2: TLS 1.2 is used; a server requiring TLS 1.3 gives 503', sides, async (side) => {
    const g = await get(side, 'max12any');
    assert.equal(g.status, 200, g.text);
    assert.equal((JSON.parse(g.text) as { protocol: string }).protocol, 'TLSv1.2');
    await refused(side, 'max12new');
  });
});

describe('default-server and no-ssl', () => {
  sideTest('default-server ssl verify none is inherited by the servers', sides, async (side) => {
    seenOf(await get(side, 'dfltsrv'));
  });

  sideTest('no-ssl on a server turns the inherited TLS off (a cleartext origin answers)', sides, async (side) => {
    const g = await get(side, 'nossl');
    assert.equal(g.status, 200, g.text);
    assert.equal(g.header('x-server'), 'plain');
  });
});

describe('connection reuse over TLS', () => {
  sideTest('the requests of one client connection share one TLS connection; another client opens its own', sides, async (side) => {
    const before = oA.connections;
    const first = (await exchange(side, 'reuse', [{}, {}, {}])).map(seenOf);
    const conns = first.map((s) => s.conn);
    assert.deepEqual(conns, [conns[0], conns[0], conns[0]], `connections ${conns.join(',')}`);
    assert.ok(conns[0]! > before, 'a fresh connection for the first request');
    // http-reuse safe: the first request of a client connection never takes an idle connection.
    const second = seenOf(await get(side, 'reuse'));
    assert.ok(second.conn > conns[0]!, `second client on connection ${second.conn}`);
  });
});

// ssl-server-verify in global: `none` turns the default verification off (a server's own
// `verify required` still verifies), `required` is the default said aloud.
const VERIFY_NONE: Record<string, string> = {
  unknown: 'server s1 127.0.0.1:{{other}} ssl',
  forced: 'server s1 127.0.0.1:{{other}} ssl verify required ca-file {{cafile}}',
};
const VERIFY_REQUIRED: Record<string, string> = {
  unknown: 'server s1 127.0.0.1:{{other}} ssl ca-file {{cafile}}',
  known: 'server s1 127.0.0.1:{{a}} ssl ca-file {{cafile}}',
};

describe('ssl-server-verify', () => {
  const none = lazySides(template('    ssl-server-verify none', VERIFY_NONE), () => ({ values }));
  const required = lazySides(template('    ssl-server-verify required', VERIFY_REQUIRED), () => ({ values }));
  after(async () => {
    await none.stop();
    await required.stop();
  });

  sideTest('ssl-server-verify none: servers are not verified (no ca-file needed)', none, async (side) => {
    seenOf(await get(side, 'unknown'));
  });

  sideTest("ssl-server-verify none: a server's own verify required still verifies", none, async (side) => {
    await refused(side, 'forced');
  });

  sideTest('ssl-server-verify required: the CA decides', required, async (side) => {
    seenOf(await get(side, 'known'));
    await refused(side, 'unknown');
  });
});

// `-c` on the files of a server line: each alert of haproxy -c must come out of sluice too.
describe('-c: server certificate files', () => {
  const noHaproxy = skipUnless('haproxy');
  let bad: { garbage: string; nokey: string; crt: string; cafile: string };
  before(() => {
    const c = makeCa('check CA');
    const cert = c.issue('srvclient', { cn: 'client', client: true });
    bad = { garbage: c.write('garbage.pem', 'not a certificate\n'), nokey: c.write('nokey/c.pem', cert.cert), crt: cert.pemFile, cafile: c.certFile };
  });

  const cfg = (server: string): string => `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:1
    default_backend be
backend be
    server s1 127.0.0.1:2 ${server}
`;
  const diags = (stderr: string): string[] =>
    stderr
      .split('\n')
      .filter((l) => /^\[(ALERT|WARNING)\]/.test(l) && !/Error\(s\) found in configuration file|Fatal errors found in configuration/.test(l))
      .map((l) => l.replace(/\(\d+\)/, '(PID)').replaceAll(/[^\s[(']*(haproxy|sluice)\.cfg/g, 'CFG'));
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  /** An alert of the server line (line 10), then `rest`. */
  const onServer = (rest: string): RegExp => new RegExp(`^\\[ALERT\\] +\\(PID\\) : config : \\[CFG:10\\] : 'server be/s1' : ${rest}$`);

  const CASES: Array<{ name: string; server: () => string; alert: RegExp; todo?: string }> = [
    {
      name: 'ca-file missing',
      server: () => 'ssl verify required ca-file /nonexistent/ca.pem',
      alert: onServer(esc("Couldn't open the ca-file '/nonexistent/ca.pem' (No such file or directory).")),
    },
    {
      name: 'ca-file holding no certificate',
      server: () => `ssl verify required ca-file ${bad.garbage}`,
      alert: onServer(`Couldn't open the ca-file '.*/garbage\\.pem' \\(no certificate or crl found\\)\\.`),
    },
    {
      name: 'crt missing',
      server: () => `ssl verify required ca-file ${bad.cafile} crt /nonexistent/c.pem`,
      alert: onServer(esc("unable to stat SSL certificate from file '/nonexistent/c.pem' : No such file or directory.")),
    },
    {
      name: 'crt holding no certificate',
      server: () => `ssl verify required ca-file ${bad.cafile} crt ${bad.garbage}`,
      alert: onServer(`unable to load certificate from file '.*/garbage\\.pem'\\.`),
    },
    {
      name: 'crt without its key',
      server: () => `ssl verify required ca-file ${bad.cafile} crt ${bad.nokey}`,
      alert: onServer(`No Private Key found in '.*/nokey/c\\.pem\\.key'\\.`),
    },
    {
      name: 'ssl verifying by default without ca-file',
      server: () => 'ssl',
      alert: onServer(esc("verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default.")),
    },
  ];

  for (const who of ['sluice', 'haproxy'] as const) {
    const name = `-c: a valid server line with ca-file, crt, sni and verifyhost passes${who === 'haproxy' ? ' [haproxy 2.6]' : ''}`;
    test(name, { skip: who === 'haproxy' ? noHaproxy : false }, async () => {
      const r = await runCheck(who, cfg(`ssl verify required ca-file ${bad.cafile} crt ${bad.crt} sni str(a.test) verifyhost a.test`));
      assert.equal(r.code, 0, r.stderr);
    });
  }

  for (const c of CASES) {
    test(`-c: ${c.name} on a server line`, c.todo !== undefined ? { todo: c.todo } : {}, async () => {
      const config = cfg(c.server());
      const s = await runCheck('sluice', config);
      assert.equal(s.code, 1, `sluice exit code\n${s.stderr}`);
      const sl = diags(s.stderr);
      assert.ok(sl.some((l) => c.alert.test(l)), `sluice: no alert matching ${c.alert}\n${s.stderr}`);
      if (noHaproxy !== false) return;
      const h = await runCheck('haproxy', config);
      for (const l of diags(h.stderr)) assert.ok(sl.includes(l), `haproxy's line is missing:\n  ${l}\nsluice printed:\n  ${sl.join('\n  ')}`);
    });

    test(`-c: ${c.name} on a server line [haproxy 2.6]`, { skip: noHaproxy }, async () => {
      const h = await runCheck('haproxy', cfg(c.server()));
      assert.equal(h.code, 1, h.stderr);
      assert.ok(diags(h.stderr).some((l) => c.alert.test(l)), `haproxy: no alert matching ${c.alert}\n${h.stderr}`);
    });
  }

  // Accepted by both, with the same warnings (none, or haproxy's about no-tlsv1x flags).
  const VALID: Array<[string, string]> = [
    ['ssl-min-ver SSLv3', 'ssl verify none ssl-min-ver SSLv3'],
    ['alpn made of commas only', 'ssl verify none alpn ,'],
    ['no-tlsv12 next to ssl-min-ver: ignored, with a warning', 'ssl verify none ssl-min-ver TLSv1.2 no-tlsv12'],
  ];
  for (const [name, server] of VALID) {
    test(`-c: ${name} on a server line, as haproxy`, { skip: noHaproxy }, async () => {
      const [s, h] = await Promise.all([runCheck('sluice', cfg(server)), runCheck('haproxy', cfg(server))]);
      assert.equal(h.code, 0, h.stderr);
      assert.equal(s.code, 0, s.stderr);
      assert.deepEqual(diags(s.stderr), diags(h.stderr));
    });
  }
});
