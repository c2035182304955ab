// What goes on the wire for health checks (issue #5): for representative configurations, the
// exact bytes the first check sends to a raw TCP server, which answers something sensible.
// Each case is data (configuration, expected bytes) run on haproxy 2.6, the reference, and on
// sluice. This file is the reference for the check engine: the haproxy runs must pass as they
// are; a sluice run that does not is a `todo` with the reason.
//
// Things worth knowing, seen here: HAProxy writes header names in lower case; `Connection:
// close` is added unless a Connection header is given, and dropped for HTTP/1.0 where it is the
// default; `Content-Length` comes only with a body or a method other than GET, HEAD, OPTIONS and
// DELETE; no Host header is added, and an absolute URI takes its authority from a Host header.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, test } from 'node:test';
import { freePort, startHaproxy, startRawServer, startSluice, type ProcHandle, type RawConn, type RawServer } from '../../harness/index.js';
import { haveHaproxy } from '../../harness/sides.js';

interface WireCase {
  name: string;
  /** Lines of backend `be`; `{{srv2}}` is the port of a second raw server. */
  backend: string;
  /** More lines for the defaults section. */
  defaults?: string;
  /** More keywords for the checked server. */
  server?: string;
  mode?: 'tcp';
  /**
   * The bytes of the first check connection, as latin1 text, on the server of the `server` line
   * ({{srv}}: its port, {{hostname}}: the machine's name), after `mask`.
   */
  expect?: string;
  /** The bytes on the second raw server (port {{srv2}}), when the check goes there. */
  expect2?: string;
  /** What the server says: an HTTP response after the request (default), or these bytes. */
  answer?: 'http' | { bytes: string; banner?: boolean };
  /** Replacements applied to what was received (the parts that vary from one run to another). */
  mask?: Array<[RegExp, string]>;
  /** The sluice run is a known bug, for this reason. */
  todo?: string;
}

const HTTP_OK = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
const PROXY_SRC = /^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ /;

const CASES: WireCase[] = [
  // ---- option httpchk forms ----
  { name: 'option httpchk', backend: '    option httpchk', expect: 'OPTIONS / HTTP/1.0\r\n\r\n' },
  { name: 'option httpchk <uri>', backend: '    option httpchk /health', expect: 'OPTIONS /health HTTP/1.0\r\n\r\n' },
  { name: 'option httpchk <method> <uri>', backend: '    option httpchk HEAD /health', expect: 'HEAD /health HTTP/1.0\r\n\r\n' },
  { name: 'option httpchk <method> <uri> HTTP/1.1', backend: '    option httpchk GET /health HTTP/1.1', expect: 'GET /health HTTP/1.1\r\nconnection: close\r\n\r\n' },
  {
    name: 'option httpchk with headers hidden after the version',
    backend: '    option httpchk GET / HTTP/1.1\\r\\nHost:\\ www.example.com\\r\\nX-A:\\ 1',
    expect: 'GET / HTTP/1.1\r\nhost: www.example.com\r\nx-a: 1\r\nconnection: close\r\n\r\n',
  },
  {
    name: 'option httpchk in a tcp backend',
    mode: 'tcp',
    backend: '    option httpchk GET /tcpmode HTTP/1.1',
    expect: 'GET /tcpmode HTTP/1.1\r\nconnection: close\r\n\r\n',
  },

  // ---- http-check send ----
  {
    name: 'http-check send meth, uri, ver and headers',
    backend: '    option httpchk\n    http-check send meth GET uri /x ver HTTP/1.1 hdr Host www.example.com hdr X-Custom a',
    expect: 'GET /x HTTP/1.1\r\nhost: www.example.com\r\nx-custom: a\r\nconnection: close\r\n\r\n',
  },
  {
    name: 'http-check send with a body',
    backend: '    option httpchk\n    http-check send meth POST uri /post ver HTTP/1.1 hdr Host h body hello',
    expect: 'POST /post HTTP/1.1\r\nhost: h\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello',
  },
  { name: 'http-check send PUT without body', backend: '    option httpchk\n    http-check send meth PUT uri /put', expect: 'PUT /put HTTP/1.0\r\ncontent-length: 0\r\n\r\n' },
  { name: 'http-check send DELETE', backend: '    option httpchk\n    http-check send meth DELETE uri /d ver HTTP/1.1', expect: 'DELETE /d HTTP/1.1\r\nconnection: close\r\n\r\n' },
  {
    name: 'http-check send with an absolute URI',
    backend: '    option httpchk\n    http-check send meth GET uri http://www.example.com/abs ver HTTP/1.1',
    expect: 'GET http://www.example.com/abs HTTP/1.1\r\nconnection: close\r\n\r\n',
  },
  {
    name: 'http-check send: the Host header sets the authority of an absolute URI',
    backend: '    option httpchk\n    http-check send meth GET uri http://a.example/x ver HTTP/1.1 hdr Host b.example',
    expect: 'GET http://b.example/x HTTP/1.1\r\nhost: b.example\r\nconnection: close\r\n\r\n',
  },
  {
    name: 'http-check send with a Connection header of its own',
    backend: '    option httpchk\n    http-check send meth GET uri /ka ver HTTP/1.1 hdr Connection keep-alive',
    expect: 'GET /ka HTTP/1.1\r\n\r\n',
  },
  {
    name: 'http-check send: constant log-format strings',
    backend: '    option httpchk\n    http-check send meth GET uri-lf /lf%%20x ver HTTP/1.1 hdr X-P 100%%',
    expect: 'GET /lf%20x HTTP/1.1\r\nx-p: 100%\r\nconnection: close\r\n\r\n',
  },
  {
    name: 'http-check send-state',
    backend: '    option httpchk GET /st HTTP/1.1\n    http-check send-state',
    expect:
      'GET /st HTTP/1.1\r\nx-haproxy-server-state: UP 1/3; address=127.0.0.1; port={{srv}}; name=be/s1; node={{hostname}}; weight=1/1; scur=N/N; qcur=0\r\nconnection: close\r\n\r\n',
    mask: [[/scur=\d+\/\d+/, 'scur=N/N']],
  },

  // ---- merges of option httpchk and http-check send, inheritance ----
  {
    name: 'http-check send before option httpchk: the option parts win, the headers stay',
    backend: '    http-check send hdr X-A 1 body b\n    option httpchk POST /m HTTP/1.1',
    expect: 'POST /m HTTP/1.1\r\nx-a: 1\r\ncontent-length: 1\r\nconnection: close\r\n\r\nb',
  },
  {
    name: 'http-check send after option httpchk: its headers replace the hidden ones',
    backend: '    option httpchk POST /m HTTP/1.1\\r\\nX-Old:\\ 1\n    http-check send hdr X-A 1',
    expect: 'POST /m HTTP/1.1\r\nx-a: 1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n',
  },
  {
    name: 'defaults: option httpchk and http-check send are inherited',
    defaults: '    option httpchk GET /fromdefaults HTTP/1.1\n    http-check send hdr X-Def 1',
    backend: '',
    expect: 'GET /fromdefaults HTTP/1.1\r\nx-def: 1\r\nconnection: close\r\n\r\n',
  },
  {
    name: "defaults: a backend's own http-check send drops the inherited request",
    defaults: '    option httpchk GET /fromdefaults HTTP/1.1\n    http-check send hdr X-Def 1',
    backend: '    http-check send hdr X-Be 2',
    expect: 'OPTIONS / HTTP/1.0\r\nx-be: 2\r\n\r\n',
  },
  {
    name: 'two connect rules: a second connection for the second request',
    backend:
      '    option httpchk\n    http-check connect\n    http-check send meth GET uri /one ver HTTP/1.1\n    http-check expect status 200\n    http-check connect port {{srv2}}\n    http-check send meth GET uri /two ver HTTP/1.1\n    http-check expect status 200',
    expect: 'GET /one HTTP/1.1\r\nconnection: close\r\n\r\n',
    expect2: 'GET /two HTTP/1.1\r\nconnection: close\r\n\r\n',
  },
  {
    name: 'check-send-proxy: a PROXY header before the request',
    backend: '    option httpchk GET /p HTTP/1.1',
    server: 'check-send-proxy',
    expect: 'PROXY TCP4 127.0.0.1 127.0.0.1 SRC {{srv}}\r\nGET /p HTTP/1.1\r\nconnection: close\r\n\r\n',
    mask: [[PROXY_SRC, 'PROXY TCP4 127.0.0.1 127.0.0.1 SRC ']],
  },

  // ---- tcp-check ----
  {
    name: 'tcp-check send and expect string',
    backend: '    option tcp-check\n    tcp-check send PING\\r\\n\n    tcp-check expect string +PONG',
    expect: 'PING\r\n',
    answer: { bytes: '+PONG\r\n' },
  },
  {
    name: 'tcp-check send-binary and expect binary',
    backend: '    option tcp-check\n    tcp-check send-binary 50494e470d0a\n    tcp-check expect binary 2b504f4e47',
    expect: 'PING\r\n',
    answer: { bytes: '+PONG\r\n' },
  },
  {
    name: 'tcp-check consecutive sends, send-lf with a constant',
    backend: '    option tcp-check\n    tcp-check send a\n    tcp-check send b comment two\n    tcp-check send-lf c%%d\n    tcp-check expect string ok',
    expect: 'abc%d',
    answer: { bytes: 'ok' },
  },
  {
    name: 'tcp-check banner first, then send',
    backend: '    option tcp-check\n    tcp-check expect string 220\n    tcp-check send QUIT\\r\\n',
    expect: 'QUIT\r\n',
    answer: { bytes: '220 hello\r\n', banner: true },
  },
  {
    name: 'tcp-check connect to another port',
    backend: '    option tcp-check\n    tcp-check connect port {{srv2}}\n    tcp-check send hello\\n\n    tcp-check expect string world',
    expect2: 'hello\n',
    answer: { bytes: 'world\n' },
  },
  {
    name: 'tcp-check connect send-proxy',
    backend: '    option tcp-check\n    tcp-check connect send-proxy\n    tcp-check send hi\n    tcp-check expect string ok',
    expect: 'PROXY TCP4 127.0.0.1 127.0.0.1 SRC {{srv}}\r\nhi',
    answer: { bytes: 'ok' },
    mask: [[PROXY_SRC, 'PROXY TCP4 127.0.0.1 127.0.0.1 SRC ']],
  },
  {
    name: 'tcp-check with check-send-proxy on the server',
    backend: '    option tcp-check\n    tcp-check send hi\n    tcp-check expect string ok',
    server: 'check-send-proxy',
    expect: 'PROXY TCP4 127.0.0.1 127.0.0.1 SRC {{srv}}\r\nhi',
    answer: { bytes: 'ok' },
    mask: [[PROXY_SRC, 'PROXY TCP4 127.0.0.1 127.0.0.1 SRC ']],
  },
];

function configOf(c: WireCase, ports: { fe: number; srv: number; srv2: number }): string {
  const fill = (s: string): string => s.replaceAll('{{srv2}}', String(ports.srv2));
  return `defaults
    mode ${c.mode ?? 'http'}
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout check 2s
${fill(c.defaults ?? '')}
frontend fe
    bind 127.0.0.1:${ports.fe}
    default_backend be
backend be
${fill(c.backend)}
    server s1 127.0.0.1:${ports.srv} check inter 200 ${c.server ?? ''}
`;
}

/** An HTTP/1 request is complete: headers, then Content-Length bytes of body. */
function requestComplete(d: Buffer): boolean {
  const t = d.toString('latin1');
  const end = t.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const m = /\r\ncontent-length: *(\d+)/i.exec(t.slice(0, end));
  return d.length >= end + 4 + (m ? Number(m[1]) : 0);
}

/** A raw server that reads one check, records it and answers as the case says. */
function checkServer(c: WireCase, expected: () => string | undefined, masked: (b: Buffer) => string): Promise<RawServer> {
  return startRawServer(async (conn: RawConn) => {
    const answer = c.answer ?? 'http';
    if (answer !== 'http' && answer.banner) await conn.write(answer.bytes);
    // HTTP: until the request is whole; raw bytes: until as many as expected have come.
    const want = expected() ?? '';
    const done = answer === 'http' ? requestComplete : (d: Buffer): boolean => masked(d).length >= want.length;
    await conn.waitFor(done, 10000);
    if (answer === 'http') await conn.write(HTTP_OK);
    else if (!answer.banner) await conn.write(answer.bytes);
    conn.end();
  });
}

async function runCase(kind: 'sluice' | 'haproxy', c: WireCase): Promise<void> {
  const fill = (s: string, srv: number): string => s.replaceAll('{{srv}}', String(srv)).replaceAll('{{hostname}}', hostname());
  const masked = (b: Buffer): string => (c.mask ?? []).reduce((t, [re, to]) => t.replace(re, to), b.toString('latin1'));
  // The servers need the expected texts, which need the port of the first one.
  let port1 = 0;
  const raw1 = await checkServer(c, () => (c.expect === undefined ? undefined : fill(c.expect, port1)), masked);
  port1 = raw1.port;
  const raw2 = await checkServer(c, () => (c.expect2 === undefined ? undefined : fill(c.expect2, port1)), masked);
  let proc: ProcHandle | undefined;
  try {
    const fe = await freePort();
    const config = configOf(c, { fe, srv: raw1.port, srv2: raw2.port });
    proc = await (kind === 'sluice' ? startSluice : startHaproxy)(config, { waitPorts: [fe] });
    for (const [raw, exp] of [[raw1, c.expect], [raw2, c.expect2]] as const) {
      if (exp === undefined) continue;
      // Generous: on a saturated CI machine haproxy once made no check connection within 3 s.
      await raw.waitConnections(1, 10000);
      const conn = raw.conns[0]!;
      const want = fill(exp, raw1.port);
      const got = await conn.waitFor((d) => masked(d).length >= want.length, 10000);
      assert.equal(JSON.stringify(masked(got)), JSON.stringify(want), `${kind}: bytes of the first check connection`);
    }
  } finally {
    await proc?.stop();
    await raw1.close();
    await raw2.close();
  }
}

describe('what health checks send', { concurrency: 6 }, () => {
  for (const c of CASES) {
    test(c.name, c.todo !== undefined ? { todo: c.todo } : {}, () => runCase('sluice', c));
    test(`${c.name} [haproxy 2.6]`, { skip: haveHaproxy ? false : 'haproxy is not installed' }, () => runCase('haproxy', c));
  }
});
