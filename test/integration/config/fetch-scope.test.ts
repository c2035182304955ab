// Where a sample fetch may be used (HAProxy's sample capabilities): every fetch reads some data
// (the request headers, the response, the client connection...) and every place that evaluates
// samples has some of it. `-c` refuses a fetch out of place in a log-format string or a sample
// expression, and warns about a condition whose ACL cannot match there; at run time such an ACL
// finds nothing. Each `-c` case states haproxy 2.6's lines, checked against sluice line for line
// and, in its own test, against haproxy itself; the runtime scenario runs on both.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AclTable, compileCondition, Place } from '../../../src/acl/index.js';
import { checkDiagnostics, diagnosticText, rawRequest, request, runCheck, skipUnless, startOrigin, type Origin } from '../../harness/index.js';
import { sideTest, startSides, type Sides } from '../../harness/sides.js';

interface Case {
  name: string;
  /** Lines of frontend `fe`, from line 8. */
  fe?: string[];
  /** Lines of backend `be`, from the line after `backend be` (line 10 without `fe` lines). */
  be?: string[];
  /** Sections after backend `be`. */
  more?: string;
  /** A whole configuration instead of the template. */
  config?: string;
  /** haproxy's [ALERT] and [WARNING] lines, the text after "config : ", in order. */
  lines: string[];
  code: number;
  /** sluice deliberately prints something else: its lines and exit code, and why. */
  sluice?: { lines: string[]; code: number; why: string };
}

function config(c: Case): string {
  if (c.config !== undefined) return c.config;
  const fe = (c.fe ?? []).map((l) => `    ${l}\n`).join('');
  const be = (c.be ?? []).map((l) => `    ${l}\n`).join('');
  return `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:1
${fe}    default_backend be
backend be
${be}    server s1 127.0.0.1:2
${c.more ?? ''}`;
}

const at = (line: number, msg: string): string => `parsing [CFG:${line}] : ${msg}`;
const rule = (kw: string, msg: string, proxy = "frontend 'fe'"): string => `error detected in ${proxy} while parsing '${kw}' rule : ${msg}.`;
const needs = (text: string, what: string): string => `sample fetch <${text}> may not be reliably used here because it needs '${what}' which is not available here`;
const never = (kw: string, place: string): string => `anonymous acl will never match because it uses keyword '${kw}' which is incompatible with '${place}'`;
const extracts = (kw: string, what: string): string => `fetch method '${kw}' extracts information from '${what}', none of which is available here`;
const FE_RES = 'frontend http-response header rule';
const FE_REQ = 'frontend http-request header rule';
const NO_TCP_RULES = 'sluice has no tcp-request rules yet: it refuses them';

const TCP_CONN_PATH = "anonymous acl will never match in 'tcp-request connection' because it uses keyword 'path' which is incompatible with 'frontend tcp-request connection rule'";

const CASES: Case[] = [
  // ---- request fetches in http-response ----
  {
    name: 'a request fetch in an http-response header value',
    fe: ['http-response set-header X %[path]'],
    lines: [at(8, rule('http-response set-header', needs('path]', 'HTTP request headers')))],
    code: 1,
  },
  {
    name: 'the refused item is quoted with the rest of the format string',
    fe: ['http-response set-header X "a %[req.hdr(host),lower] b %[src]"'],
    lines: [at(8, rule('http-response set-header', needs('req.hdr(host),lower] b %[src]', 'HTTP request headers')))],
    code: 1,
  },
  {
    name: 'an unknown fetch is quoted with the rest of the format string too',
    fe: ['http-request set-header X "%[foo] bar %[path]"'],
    lines: [at(8, rule('http-request set-header', "failed to parse sample expression <foo] bar %[path]> : unknown fetch method 'foo'"))],
    code: 1,
  },
  {
    name: 'a request fetch in an http-response condition',
    fe: ['http-response set-header Y z if { path /x }'],
    lines: [at(8, never('path', FE_RES))],
    code: 0,
  },
  {
    name: 'the ACL keyword hdr reads the request, even in http-response',
    fe: ['http-response set-header Y z if { hdr(x) y }'],
    lines: [at(8, never('hdr', FE_RES))],
    code: 0,
  },
  {
    name: 'named and predefined ACLs, partly or wholly out of place',
    fe: [
      'acl p path /x',
      'acl p res.hdr(x) y',
      'acl q url_beg /y',
      'http-response set-header A b if p',
      'http-response set-header A b if q || METH_GET',
      'http-response set-header A b if HTTP_URL_ABS',
      'http-response set-header A b if METH_GET HTTP',
    ],
    lines: [
      at(11, "acl 'p' involves keywords 'path' which is incompatible with 'frontend http-response header rule'"),
      at(12, "acl 'q' will never match because it only involves keywords that are incompatible with 'frontend http-response header rule'"),
      at(13, "acl 'HTTP_URL_ABS' will never match because it only involves keywords that are incompatible with 'frontend http-response header rule'"),
    ],
    code: 0,
  },
  {
    name: 'set-var in http-response with a request fetch',
    fe: ['http-response set-var(txn.b) path,lower'],
    lines: [at(8, rule('http-response set-var(txn.b)', extracts('set-var(txn.b)', 'HTTP request headers')))],
    code: 1,
  },
  {
    name: 'set-var-fmt in http-response with a request cookie',
    fe: ['http-response set-var-fmt(txn.b) %[cook(a)]'],
    lines: [at(8, rule('http-response set-var-fmt(txn.b)', needs('cook(a)]', 'HTTP request headers')))],
    code: 1,
  },
  {
    name: 'a response reply with a request fetch in its body',
    fe: ['http-response return status 200 content-type text/plain lf-string %[path]'],
    lines: [at(8, rule('http-response return', needs('path]', 'HTTP request headers')))],
    code: 1,
  },

  // ---- response fetches in http-request ----
  {
    name: 'a response fetch in an http-request header value',
    fe: ['http-request set-header X %[res.hdr(x)]'],
    lines: [at(8, rule('http-request set-header', needs('res.hdr(x)]', 'HTTP response headers')))],
    code: 1,
  },
  {
    name: 'the status in an http-request header value',
    fe: ['http-request set-header X %[status]'],
    lines: [at(8, rule('http-request set-header', needs('status]', 'HTTP response')))],
    code: 1,
  },
  {
    name: 'a response fetch in an http-request condition',
    fe: ['http-request deny if { status 200 }', 'http-request redirect location /x if { res.hdr(x) y }'],
    lines: [at(8, never('status', FE_REQ)), at(9, never('res.hdr', FE_REQ))],
    code: 0,
  },
  {
    name: 'set-var in http-request with a response fetch',
    fe: ['http-request set-var(txn.a) res.hdr(x)'],
    lines: [at(8, rule('http-request set-var(txn.a)', extracts('set-var(txn.a)', 'HTTP response headers')))],
    code: 1,
  },
  {
    name: 'capture of a response header in http-request',
    fe: ['http-request capture res.hdr(x) len 10'],
    lines: [at(8, rule('http-request capture', extracts('res.hdr(x)', 'HTTP response headers')))],
    code: 1,
  },
  {
    name: 'the response body in an http-request header value',
    fe: ['http-request set-header A %[res.body]'],
    lines: [at(8, rule('http-request set-header', needs('res.body]', 'HTTP response headers')))],
    code: 1,
  },

  // ---- http-after-response ----
  {
    name: 'a request fetch in an http-after-response header value',
    fe: ['http-after-response set-header X %[url]'],
    lines: [at(8, rule('http-after-response set-header', needs('url]', 'HTTP request headers')))],
    code: 1,
  },
  {
    name: 'a request fetch in an http-after-response condition',
    fe: ['http-after-response set-header A b if { status 200 } || { url /x }'],
    lines: [at(8, never('url', FE_RES))],
    code: 0,
  },

  // ---- backend, listen and defaults sections ----
  {
    name: 'a backend http-response rule reading the request path',
    be: ['http-response set-header X %[path]'],
    lines: [at(10, rule('http-response set-header', needs('path]', 'HTTP request headers'), "backend 'be'"))],
    code: 1,
  },
  {
    name: 'be_name fits a backend http-request rule, not a frontend one',
    fe: ['http-request set-header X %[be_name]'],
    be: ['http-request set-header X %[be_name] if { be_name be } { fe_name fe }'],
    lines: [at(8, rule('http-request set-header', needs('be_name]', 'backend')))],
    code: 1,
  },
  {
    name: 'a listen has both sides: the first place is named',
    more: `listen li
    bind 127.0.0.1:3
    http-request deny if { be_name be } { status 200 }
    http-response deny if { path /a }
    server s 127.0.0.1:2
`,
    lines: [at(13, never('status', FE_REQ)), at(14, never('path', 'backend http-response header rule'))],
    code: 0,
  },
  {
    name: 'rules of a defaults section count as both sides',
    config: `defaults d
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    http-request set-header X %[be_name] if { status 200 }
    http-response set-header X y if { path /a }
frontend fe from d
    bind 127.0.0.1:1
    default_backend be
defaults
    mode http
    timeout connect 1s
    timeout server 5s
backend be
    server s1 127.0.0.1:2
`,
    lines: [at(6, never('status', FE_REQ)), at(7, never('path', 'backend http-response header rule'))],
    code: 0,
  },

  // ---- switching rules ----
  {
    name: 'use_backend named by a response fetch',
    fe: ['use_backend %[res.hdr(x)]'],
    lines: [`Parsing [CFG:8]: failed to parse use_backend rule '%[res.hdr(x)]' : ${needs('res.hdr(x)]', 'HTTP response headers')}.`],
    code: 1,
  },
  {
    name: 'use_backend with a response fetch in its condition',
    fe: ['use_backend be if { res.hdr(x) y }'],
    lines: [at(8, never('res.hdr', 'frontend use-backend rule'))],
    code: 0,
  },
  {
    name: 'use-server with the status in its condition, and named by it',
    be: ['use-server s1 if { status 200 }', 'use-server %[status] if TRUE'],
    lines: [
      at(10, never('status', 'backend use-server, balance or stick-match rule')),
      `Parsing [CFG:11]; use-server rule failed to parse log-format '%[status]' : ${needs('status]', 'HTTP response')}.`,
    ],
    code: 1,
  },

  // ---- log formats ----
  {
    name: 'log-format with a request header fetch',
    fe: ['log stdout local0', 'log-format "%[path] %[src]"'],
    lines: [`Parsing [CFG:9]: failed to parse log-format : ${needs('path] %[src]', 'HTTP request headers')}.`],
    code: 1,
  },
  {
    name: 'log-format with the request buffer length',
    fe: ['log stdout local0', 'log-format "%ci %[req.len]"'],
    lines: [`Parsing [CFG:9]: failed to parse log-format : ${needs('req.len]', 'request buffer')}.`],
    code: 1,
  },
  {
    name: 'log-format with what stays known at the end',
    fe: ['log stdout local0', 'log-format "%[method] %[status] %[fe_name] %[be_name] %[var(txn.a)] %[ssl_fc] %[src]"'],
    lines: [],
    code: 0,
  },
  {
    name: 'http-error replies may read the request and the response',
    fe: ['http-error status 503 content-type text/plain hdr X %[path] lf-string %[status]'],
    lines: [],
    code: 0,
  },

  // ---- checks and servers ----
  {
    name: 'http-check send reading the frontend',
    be: ['option httpchk', 'http-check send uri-lf /%[fe_name]'],
    lines: [at(11, `'http-check send' : '/%[fe_name]' invalid log-format string (${needs('fe_name]', 'frontend')}).`)],
    code: 1,
  },
  {
    name: 'tcp-check expect reading the request buffer',
    be: ['option tcp-check', 'tcp-check expect string-lf %[req.len]'],
    lines: [at(11, `'tcp-check expect' : '%[req.len]' invalid log-format string (${needs('req.len]', 'request buffer')}).`)],
    code: 1,
  },
  {
    name: 'a server sni reading the response',
    be: ['server s2 127.0.0.1:2 ssl verify none sni res.hdr(x)'],
    lines: [`[CFG:10] : 'server be/s2' : error detected while parsing sni expression :  ${extracts('res.hdr(x)', 'HTTP response headers')}.`],
    code: 1,
  },

  // ---- TCP rules ----
  {
    name: 'an HTTP fetch in tcp-request connection',
    fe: ['tcp-request connection reject if { path /x }'],
    lines: [at(8, TCP_CONN_PATH)],
    code: 0,
    sluice: { lines: [at(8, "'tcp-request connection' is not supported yet by sluice.")], code: 1, why: NO_TCP_RULES },
  },
  {
    name: 'a payload fetch in tcp-request connection',
    fe: ['mode tcp', 'tcp-request connection reject if { req.len gt 0 }'],
    lines: [at(9, "anonymous acl will never match in 'tcp-request connection' because it uses keyword 'req.len' which is incompatible with 'frontend tcp-request connection rule'")],
    code: 0,
    sluice: { lines: [at(9, "'tcp-request connection' is not supported yet by sluice.")], code: 1, why: NO_TCP_RULES },
  },
];

const noHaproxy = skipUnless('haproxy');

function assertLines(out: { code: number | null; stderr: string }, lines: string[], code: number, who: string): void {
  const got = checkDiagnostics(out.stderr).map(diagnosticText);
  assert.deepEqual(got, lines, `${who}:\n${out.stderr}`);
  assert.equal(out.code, code, `${who} exit code\n${out.stderr}`);
}

describe('-c: fetches checked against the place they are used at', { concurrency: 4 }, () => {
  for (const c of CASES) {
    test(`-c: ${c.name}`, async () => {
      const s = await runCheck('sluice', config(c));
      assertLines(s, c.sluice?.lines ?? c.lines, c.sluice?.code ?? c.code, 'sluice');
    });
    test(`-c: ${c.name} [haproxy 2.6]`, { skip: noHaproxy }, async () => {
      assertLines(await runCheck('haproxy', config(c)), c.lines, c.code, 'haproxy');
    });
  }

  test('a TCP rule would word its warning as haproxy does', () => {
    // sluice has no tcp-request rules yet; the ACL engine already words their warning.
    const cond = { polarity: 'if' as const, tokens: ['{', 'path', '/x', '}'], loc: { file: 'x', line: 8 } };
    const c = compileCondition(cond, new AclTable(), { where: Place.FeConAcc, rule: 'tcp-request connection' });
    assert.equal(at(8, c.warning ?? ''), CASES.find((x) => x.name === 'an HTTP fetch in tcp-request connection')!.lines[0]);
  });
});

// ---- at run time ----

const RUNTIME = `
global
    log stdout format raw local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{{port:fe}}
    acl to_x path /x
    acl to_x res.hdr(x-server) s1
    http-response set-header X-Path yes if { path /x }
    http-response set-header X-Not-Path yes if !{ path /x }
    http-response set-header X-Named yes if to_x
    http-response set-header X-Http yes if HTTP
    http-response set-header X-Meth yes if METH_GET
    http-response set-header X-Hdr yes if { hdr(host) -m found }
    http-after-response set-header X-After yes if { url_beg /x }
    http-request set-header X-Req yes if { res.hdr(x-server) -m found }
    http-request set-header X-Req-Not yes if !{ status 200 }
    log-format "m=%[method] http=%[req.proto_http] st=%[status] %r"
    default_backend be
backend be
    server s1 127.0.0.1:{{origin}}
`;

describe('fetches out of place at run time', () => {
  let origin: Origin;
  let sides: Sides;
  before(async () => {
    origin = await startOrigin('s1');
    sides = await startSides(RUNTIME, { values: { origin: origin.port } });
  });
  after(async () => {
    await sides?.stop();
    await origin?.close();
  });

  sideTest(
    'an ACL that cannot match finds nothing: it fails, and passes negated',
    () => sides,
    async (side) => {
      const r = await request(side.port('fe'), { path: '/x?echo=1', headers: { Host: 'a' } });
      assert.equal(r.status, 200);
      const has = (name: string): boolean => r.headers.some(([k]) => k.toLowerCase() === name);
      // Once the request has left, its path, its Host header and req.proto_http find nothing:
      // those ACLs fail and their negation passes; the method (kept by the transaction) and the
      // response header of the named ACL still match.
      assert.deepEqual(
        ['x-path', 'x-not-path', 'x-named', 'x-http', 'x-meth', 'x-hdr', 'x-after'].filter(has),
        ['x-not-path', 'x-named', 'x-meth'],
      );
      // Before the response, the response headers and status are not there either.
      const sent = (JSON.parse(r.text) as { headers: Array<[string, string]> }).headers.map(([k]) => k.toLowerCase());
      assert.ok(sent.includes('x-req-not'), `request headers: ${sent.join(', ')}`);
      assert.ok(!sent.includes('x-req'), `request headers: ${sent.join(', ')}`);
    },
  );

  sideTest(
    'a log line is written from the response side: an unknown method and the request protocol are gone',
    () => sides,
    async (side) => {
      const r = await rawRequest(side.port('fe'), 'PURGE /y HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.match(r.text, /^HTTP\/1\.1 200/);
      // A known method is kept by the transaction, an unknown one is read from the request.
      assert.equal(await side.proc.waitForLine((l) => l.includes('PURGE /y'), 5000), 'm=- http=- st=200 PURGE /y HTTP/1.1');
    },
  );
});
