// HTTP request rules (issue 3) through sluice and haproxy 2.6 side by side: the same configuration,
// the same bytes, and for each case the same status and reason, the same response header set
// (Date aside), the same body, the same request as the echo origin received it, and the same
// connection fate. haproxy's answer is the reference: each case first checks haproxy's status, so
// that a wrong case fails as such. Responses, after-response rules, routing and error pages are
// in rules-corpus-2.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { skipUnless, startOrigin, type Origin } from '../harness/index.js';
import {
  assertSame,
  echoOf,
  exchangeBoth,
  normalizedEcho,
  PROBE,
  req,
  startReferencePair,
  type Observed,
  type ReferencePair,
} from './reference.js';

// One frontend; each rule is gated by its own path prefix so that the cases stay independent.
const CONFIG = `
global
    maxconn 200

userlist users
    group admins
    group staff
    user alice insecure-password wonderland groups admins
    user bob password {{sha256}} groups staff
    user carol password {{sha512}} groups admins,staff
    user dave password {{md5}}

defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout tarpit 200ms

frontend rq
    bind 127.0.0.1:{{port:rq}}
    default_backend app

    # ---- allow stops the frontend's list
    http-request allow if { path_beg /allow/ }
    http-request set-header X-Not-Reached yes if { path_beg /allow/ }
    http-request deny if { path_beg /allow/ }

    # ---- header rewriting
    http-request set-header X-Set one if { path_beg /h/set/ }
    http-request add-header X-Add "two words" if { path_beg /h/add/ }
    http-request add-header X-Fmt "m=%[method] p=%[path] q=%[query] h=%[req.hdr(host)]" if { path_beg /h/fmt/ }
    http-request del-header X-Del if { path_beg /h/del/ }
    http-request del-header x-pre- -m beg if { path_beg /h/delbeg/ }
    http-request del-header ^x-re[0-9]$ -m reg if { path_beg /h/delreg/ }
    http-request replace-header X-Rh ^(.*)-old$ \\1-new if { path_beg /h/rh/ }
    http-request replace-value X-Rv ^old$ new if { path_beg /h/rv/ }
    http-request set-header Host backend.internal if { path_beg /h/host/ }
    http-request set-header X-O 1 if { path_beg /h/order/ }
    http-request add-header X-O 2 if { path_beg /h/order/ }
    http-request replace-value X-O ^1$ one if { path_beg /h/order/ }

    # ---- request line
    http-request set-path /new%[path] if { path_beg /p/setpath/ }
    http-request set-header X-Seen-Path %[path] if { path_beg /new/p/setpath/ }
    http-request set-query echo=1&a=%[url_param(a)] if { path_beg /p/setquery/ }
    http-request set-uri /rewritten/%[url_param(x)]?echo=1 if { path_beg /p/seturi/ }
    http-request set-method PUT if { path_beg /p/setmethod/ }
    http-request replace-path /p/rp/(.*) /replaced/\\1 if { path_beg /p/rp/ }
    http-request set-header X-Path-After %[path] if { path_beg /replaced/ }

    # ---- variables
    http-request set-var(txn.who) req.hdr(x-who),lower if { path_beg /v/ }
    http-request set-var(req.plen) path,length if { path_beg /v/ }
    http-request set-header X-Var-Who %[var(txn.who)] if { path_beg /v/txn/ }
    http-request set-header X-Var-Plen %[var(req.plen)] if { path_beg /v/req/ }
    http-request deny deny_status 405 if { path_beg /v/acl/ } { var(txn.who) -m str admin }
    http-request unset-var(txn.who) if { path_beg /v/unset/ }
    http-request set-header X-Who-After "[%[var(txn.who)]]" if { path_beg /v/unset/ }
    http-request set-var(sess.first) path if { path_beg /v/sess/set }
    http-request set-header X-Sess %[var(sess.first)] if { path_beg /v/sess/ }
    http-request set-var(proc.last) url_param(v) if { path_beg /v/proc/set }
    http-request set-header X-Proc %[var(proc.last)] if { path_beg /v/proc/ }
    http-request set-var(txn.c) str(first) if { path_beg /v/cond/ }
    http-request set-var(txn.c,ifnotexists) str(second) if { path_beg /v/cond/ }
    http-request set-var(txn.d,ifnotempty) req.hdr(x-d) if { path_beg /v/cond/ }
    http-request set-header X-C "c=%[var(txn.c)] d=%[var(txn.d)]" if { path_beg /v/cond/ }
    http-request set-var-fmt(txn.f) "%[method]:%[path]" if { path_beg /v/fmt/ }
    http-request set-header X-F %[var(txn.f)] if { path_beg /v/fmt/ }

    # ---- deny and tarpit
    http-request deny if { path_beg /d/plain/ }
    http-request deny deny_status 429 if { path_beg /d/429/ }
    http-request deny status 451 content-type text/plain string "unavailable for legal reasons" hdr X-Why legal hdr X-Path %[path] if { path_beg /d/str/ }
    http-request deny status 400 content-type application/json lf-string "{\\"m\\":\\"%[method]\\",\\"p\\":\\"%[path]\\"}" if { path_beg /d/lf/ }
    http-request tarpit if { path_beg /t/plain/ }
    http-request tarpit deny_status 503 content-type text/plain string "slow down" hdr X-Tarpit yes if { path_beg /t/503/ }

    # ---- return
    http-request return if { path_beg /r/empty/ }
    http-request return status 404 if { path_beg /r/404/ }
    http-request return status 204 if { path_beg /r/204/ }
    http-request return status 201 content-type text/plain string "made here" hdr X-R1 a hdr X-R2 "p=%[path] q=%[query]" if { path_beg /r/str/ }
    http-request return content-type text/plain lf-string "ip=%ci f=%f b=%b m=%HM u=%HU p=%HP po=%HPO q=%HQ v=%HV h=%[req.hdr(host)]" if { path_beg /r/lf/ }
    http-request return status 503 content-type "text/html; charset=utf-8" file {{dir}}/page.html hdr Cache-Control no-store if { path_beg /r/file/ }
    http-request return content-type text/plain lf-file {{dir}}/tmpl.txt if { path_beg /r/lffile/ }
    http-request return errorfile {{dir}}/ok.http if { path_beg /r/errorfile/ }

    # ---- redirect
    http-request redirect location /moved if { path_beg /rd/loc/ }
    http-request redirect location https://other.test%[path] code 301 if { path_beg /rd/301/ }
    http-request redirect prefix https://new.test code 303 if { path_beg /rd/prefix/ }
    http-request redirect prefix /base code 307 drop-query if { path_beg /rd/dq/ }
    http-request redirect prefix / code 301 drop-query append-slash if { path_beg /rd/slash }
    http-request redirect scheme https code 308 if { path_beg /rd/scheme/ }
    http-request redirect location /login set-cookie SEEN=1 if { path_beg /rd/cookie/ }
    http-request redirect location / code 302 clear-cookie USERID= if { path_beg /rd/clear/ }
    http-request redirect location %[req.hdr(x-to)] ignore-empty if { path_beg /rd/empty/ }

    # ---- authentication
    http-request auth realm "Private Zone" if { path_beg /auth/ } !{ http_auth(users) }
    http-request set-header X-User %[http_auth_user] if { path_beg /auth/ }
    http-request auth if { path_beg /grp/ } !{ http_auth_group(users) admins }
    http-request deny deny_status 410 if { path_beg /grpstaff/ } !{ http_auth_group(users) staff }

    # ---- the rest: the request goes on normally
    http-request set-log-level silent if { path_beg /m/log/ }
    http-request disable-l7-retry if { path_beg /m/l7/ }
    http-request capture req.hdr(user-agent) len 10 if { path_beg /m/cap/ }
    http-request wait-for-body time 2s at-least 8 if { path_beg /m/wfb/ }
    http-request set-header X-Body-Len %[req.body_len] if { path_beg /m/wfb/ }

backend app
    server app 127.0.0.1:{{app}}
`;

// http-errors sections named by rule replies (errorfiles), and the req.body fetch.
const CONFIG_SECTIONS = `
http-errors myerrs
    errorfile 403 {{dir}}/403.http
    errorfile 404 {{dir}}/404.http
    errorfile 503 {{dir}}/503.http

defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s

listen rx
    bind 127.0.0.1:{{port:rx}}
    http-request deny errorfiles myerrs if { path_beg /d/errorfiles/ }
    http-request return status 404 errorfiles myerrs if { path_beg /r/errorfiles/ }
    http-request deny status 500 errorfiles myerrs if { path_beg /d/missing/ }
    http-request return status 404 errorfiles myerrs content-type text/plain hdr X-Ignored 1 if { path_beg /r/ignored/ }
    http-request set-var(txn.path) path
    http-response deny errorfiles myerrs if { var(txn.path) -m beg /res/deny/502/ }
    http-response deny status 403 errorfiles myerrs if { var(txn.path) -m beg /res/deny/403/ }
    http-request wait-for-body time 2s at-least 8 if { path_beg /m/wfb/ }
    http-request set-header X-Body %[req.body] if { path_beg /m/wfb/ }
    use_backend errpages if { path_beg /httperr/ }
    use_backend picked if { path_beg /picked/ }
    server app 127.0.0.1:{{app}}

# http-error naming a section: the section's 503 replaces the default page; its 502 is missing.
backend errpages
    http-error status 503 errorfiles myerrs
    http-error status 502 errorfiles myerrs
    http-request deny deny_status 503 if { path_beg /httperr/503/ }
    http-request deny deny_status 502 if { path_beg /httperr/502/ }

# errorfiles with explicit codes: only those are taken from the section.
backend picked
    errorfiles myerrs 404
    http-request deny deny_status 404 if { path_beg /picked/404/ }
    http-request deny deny_status 403 if { path_beg /picked/403/ }
`;

const FILES: Record<string, string> = {
  '403.http': 'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 16\r\nX-From: myerrs\r\n\r\nmyerrs says 403\n',
  '404.http': 'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 16\r\nX-From: myerrs\r\n\r\nmyerrs says 404\n',
  '503.http': 'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 16\r\nX-From: myerrs\r\n\r\nmyerrs says 503\n',
  'ok.http': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\nX-From: ok.http\r\n\r\nall good\n',
  'page.html': '<html><body>maintenance</body></html>\n',
  'tmpl.txt': 'method %HM on %[path] from %ci\n',
};

interface Case {
  name: string;
  send: Buffer | Buffer[];
  /** haproxy's status for the first response: checks the case itself. */
  status: number;
  /** The responses are echo reports: what the origin received must match. */
  echo?: boolean;
  responses?: number;
  methods?: string[];
  /** Send the probe afterwards and compare the connection's fate (default true). */
  probe?: boolean;
  pauseMs?: number;
  /** Compare the bodies (default true, except for echo reports). */
  body?: boolean;
  check?(o: Observed, who: string): void;
  todo?: string;
}

const basic = (user: string, pass: string): [string, string] => ['Authorization', `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`];
const post = (path: string, body: string): Buffer => req('POST', path, [['Content-Length', String(body.length)]], { body });
const hasHeader = (name: string, value: string | undefined) => (o: Observed, who: string): void => {
  const e = echoOf(o);
  const got = e.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
  assert.deepEqual(got, value === undefined ? [] : [value], `${who}: ${name} as the origin saw it`);
};


const CASES: Case[] = [
  // ---- allow
  { name: 'allow stops the list: later set-header and deny are skipped', send: req('GET', '/allow/x?echo=1'), status: 200, echo: true, check: hasHeader('X-Not-Reached', undefined) },

  // ---- header rewriting
  { name: 'set-header adds a header at the end', send: req('GET', '/h/set/?echo=1', [['X-A', '1']]), status: 200, echo: true, check: hasHeader('X-Set', 'one') },
  { name: 'set-header replaces every occurrence', send: req('GET', '/h/set/?echo=1', [['X-Set', 'a'], ['X-B', 'b'], ['x-set', 'c']]), status: 200, echo: true, check: hasHeader('X-Set', 'one') },
  { name: 'add-header keeps the existing occurrences', send: req('GET', '/h/add/?echo=1', [['X-Add', 'first']]), status: 200, echo: true },
  { name: 'add-header with a log-format value', send: req('GET', '/h/fmt/a.b?echo=1&k=v'), status: 200, echo: true },
  { name: 'del-header removes every occurrence, any case', send: req('GET', '/h/del/?echo=1', [['X-Del', '1'], ['X-Keep', 'k'], ['x-del', '2'], ['X-Delete', 'kept']]), status: 200, echo: true },
  { name: 'del-header -m beg', send: req('GET', '/h/delbeg/?echo=1', [['X-Pre-A', '1'], ['x-pre-b', '2'], ['X-Prefix', 'kept']]), status: 200, echo: true },
  { name: 'del-header -m reg', send: req('GET', '/h/delreg/?echo=1', [['X-Re1', '1'], ['X-Re12', 'kept'], ['x-re7', '2']]), status: 200, echo: true },
  {
    name: 'replace-header works on the whole value of each line',
    send: req('GET', '/h/rh/?echo=1', [['X-Rh', 'a-old, b-old'], ['X-Rh', 'c-old'], ['X-Rh', 'd-older']]),
    status: 200,
    echo: true,
  },
  { name: 'replace-value works on each comma-separated value', send: req('GET', '/h/rv/?echo=1', [['X-Rv', 'old, keep,old'], ['X-Rv', 'older']]), status: 200, echo: true },
  { name: 'set-header Host', send: req('GET', '/h/host/?echo=1'), status: 200, echo: true },
  { name: 'set-header, add-header then replace-value on one name', send: req('GET', '/h/order/?echo=1', [['X-O', 'client']]), status: 200, echo: true },

  // ---- request line
  { name: 'set-path keeps the query; a later rule sees the new path', send: req('GET', '/p/setpath/x?echo=1&k=v'), status: 200, echo: true },
  { name: 'set-path on an absolute-form request', send: req('GET', 'http://ref.test/p/setpath/abs?echo=1'), status: 200, echo: true },
  { name: 'set-query replaces the query string', send: req('GET', '/p/setquery/?a=7&b=8'), status: 200, echo: true },
  { name: 'set-uri replaces path and query', send: req('GET', '/p/seturi/?x=abc'), status: 200, echo: true },
  { name: 'set-method', send: req('GET', '/p/setmethod/?echo=1'), status: 200, echo: true },
  { name: 'replace-path with a back-reference; a later rule sees the new path', send: req('GET', '/p/rp/a/b?echo=1'), status: 200, echo: true },

  // ---- variables
  { name: 'txn var (with a converter) read back in a header', send: req('GET', '/v/txn/?echo=1', [['X-Who', 'Alice']]), status: 200, echo: true },
  { name: 'txn var never set (no source header) in a header value', send: req('GET', '/v/txn/?echo=1'), status: 200, echo: true },
  { name: 'req var read back in a header', send: req('GET', '/v/req/abcdef?echo=1'), status: 200, echo: true },
  { name: 'var in a condition: matched, deny 405', send: req('GET', '/v/acl/', [['X-Who', 'ADMIN']]), status: 405 },
  { name: 'var in a condition: not matched', send: req('GET', '/v/acl/?echo=1', [['X-Who', 'guest']]), status: 200, echo: true },
  { name: 'unset-var then read', send: req('GET', '/v/unset/?echo=1', [['X-Who', 'bob']]), status: 200, echo: true },
  {
    name: 'sess var kept for the next request of the connection',
    send: Buffer.concat([req('GET', '/v/sess/set?echo=1'), req('GET', '/v/sess/get?echo=1')]),
    responses: 2,
    status: 200,
    echo: true,
  },
  { name: 'sess var not seen on another connection', send: req('GET', '/v/sess/get?echo=1'), status: 200, echo: true },
  { name: 'proc var set', send: req('GET', '/v/proc/set?v=42&echo=1'), status: 200, echo: true },
  { name: 'proc var read on another connection', send: req('GET', '/v/proc/get?echo=1'), status: 200, echo: true },
  { name: 'set-var ifnotexists and ifnotempty', send: req('GET', '/v/cond/?echo=1', [['X-D', '']]), status: 200, echo: true },
  { name: 'set-var ifnotempty with a value', send: req('GET', '/v/cond/?echo=1', [['X-D', 'dd']]), status: 200, echo: true },
  { name: 'set-var-fmt', send: req('POST', '/v/fmt/z?echo=1', [['Content-Length', '0']]), status: 200, echo: true },

  // ---- deny and tarpit
  { name: 'deny: default 403', send: req('GET', '/d/plain/'), status: 403 },
  { name: 'deny deny_status 429', send: req('GET', '/d/429/'), status: 429 },
  { name: 'deny with status, content-type, string and hdr', send: req('GET', '/d/str/x?q=1'), status: 451 },
  { name: 'deny with lf-string', send: req('DELETE', '/d/lf/item'), status: 400 },
  { name: 'deny after a request body', send: post('/d/plain/', 'abcdef'), status: 403 },
  { name: 'tarpit: default 500 after the tarpit delay', send: req('GET', '/t/plain/'), status: 500, probe: false, body: false },
  { name: 'tarpit with deny_status, content-type, string and hdr', send: req('GET', '/t/503/'), status: 503, probe: false, body: false },

  // ---- return
  { name: 'return with nothing: 200, empty', send: req('GET', '/r/empty/'), status: 200 },
  { name: 'return status 404 only', send: req('GET', '/r/404/'), status: 404 },
  { name: 'return status 204 has no Content-Length', send: req('GET', '/r/204/'), status: 204 },
  { name: 'return with string and log-format hdr values', send: req('GET', '/r/str/x?a=1'), status: 201 },
  { name: 'return with lf-string: %ci %f %b %HM %HU %HP %HPO %HQ %HV', send: req('GET', '/r/lf/p?x=1&y=2', [], { host: 'lf.test:8080' }), status: 200 },
  { name: 'return with lf-string, no query', send: req('PUT', '/r/lf/none', [['Content-Length', '0']]), status: 200 },
  { name: 'return to an HTTP/1.0 keep-alive request: connection: keep-alive', send: req('PUT', '/r/lf/none', [['Content-Length', '0'], ['Connection', 'keep-alive']], { version: 'HTTP/1.0' }), status: 200 },
  { name: 'return to an HTTP/1.0 request: connection: close, then closed', send: req('GET', '/r/lf/none', [], { version: 'HTTP/1.0' }), status: 200 },
  { name: 'deny to an HTTP/1.0 request: connection: close, then closed', send: req('GET', '/d/plain/', [], { version: 'HTTP/1.0', host: null }), status: 403 },
  { name: 'return with file and a header', send: req('GET', '/r/file/'), status: 503 },
  { name: 'return with lf-file', send: req('GET', '/r/lffile/t'), status: 200 },
  { name: 'return with errorfile', send: req('GET', '/r/errorfile/'), status: 200 },
  { name: 'return to a HEAD request', send: req('HEAD', '/r/str/'), methods: ['HEAD'], status: 201 },

  // ---- redirect
  { name: 'redirect location: default 302', send: req('GET', '/rd/loc/?a=1'), status: 302 },
  { name: 'redirect location with a log-format value, code 301', send: req('GET', '/rd/301/x?a=1'), status: 301 },
  { name: 'redirect prefix keeps the query, code 303', send: req('GET', '/rd/prefix/p?a=1&b=2'), status: 303 },
  { name: 'redirect prefix drop-query, code 307', send: req('GET', '/rd/dq/p?a=1'), status: 307 },
  { name: 'redirect of a POST with Content-Length: 0 keeps the connection', send: req('POST', '/rd/dq/p?a=1', [['Content-Length', '0']]), status: 307 },
  { name: 'redirect of a POST with a body closes the connection', send: post('/rd/dq/p?a=1', 'abc'), status: 307 },
  { name: 'redirect prefix / drop-query append-slash', send: req('GET', '/rd/slash/dir?x=1'), status: 301 },
  { name: 'append-slash on a path that already ends with /: no second slash', send: req('GET', '/rd/slash/dir/?x=1'), status: 301 },
  { name: 'redirect scheme https code 308 uses the Host header', send: req('GET', '/rd/scheme/s?a=1', [], { host: 'www.ref.test:8080' }), status: 308 },
  { name: 'redirect scheme without a Host header (HTTP/1.0 keep-alive)', send: req('GET', '/rd/scheme/s', [['Connection', 'keep-alive']], { version: 'HTTP/1.0', host: null }), status: 308 },
  { name: 'redirect to an HTTP/1.0 request: connection: close, then closed', send: req('GET', '/rd/scheme/s', [], { version: 'HTTP/1.0', host: null }), status: 308 },
  { name: 'redirect set-cookie', send: req('GET', '/rd/cookie/'), status: 302 },
  { name: 'redirect clear-cookie', send: req('GET', '/rd/clear/'), status: 302 },
  { name: 'redirect ignore-empty with nothing to redirect to: the request goes on', send: req('GET', '/rd/empty/?echo=1'), status: 200, echo: true },
  { name: 'redirect location from a header', send: req('GET', '/rd/empty/', [['X-To', 'https://to.test/x']]), status: 302 },

  // ---- authentication
  { name: 'auth: no credentials, 401 with the realm', send: req('GET', '/auth/x'), status: 401 },
  { name: 'auth: insecure-password, right', send: req('GET', '/auth/x?echo=1', [basic('alice', 'wonderland')]), status: 200, echo: true },
  { name: 'auth: insecure-password, wrong', send: req('GET', '/auth/x', [basic('alice', 'Wonderland')]), status: 401 },
  { name: 'auth: sha-256 crypt, right', send: req('GET', '/auth/x?echo=1', [basic('bob', 'bobpass')]), status: 200, echo: true },
  { name: 'auth: sha-256 crypt, wrong', send: req('GET', '/auth/x', [basic('bob', 'bobpas')]), status: 401 },
  { name: 'auth: sha-512 crypt, right', send: req('GET', '/auth/x?echo=1', [basic('carol', 'c@r0l:pass')]), status: 200, echo: true },
  { name: 'auth: md5 crypt, right', send: req('GET', '/auth/x?echo=1', [basic('dave', 'davepass')]), status: 200, echo: true },
  { name: 'auth: md5 crypt, wrong', send: req('GET', '/auth/x', [basic('dave', 'carolpass')]), status: 401 },
  { name: 'auth: unknown user', send: req('GET', '/auth/x', [basic('mallory', 'wonderland')]), status: 401 },
  { name: 'auth: another scheme', send: req('GET', '/auth/x', [['Authorization', 'Bearer abc']]), status: 401 },
  { name: 'auth: invalid base64', send: req('GET', '/auth/x', [['Authorization', 'Basic %%%']]), status: 401 },
  { name: 'auth: no colon in the credentials', send: req('GET', '/auth/x', [['Authorization', `Basic ${Buffer.from('alice').toString('base64')}`]]), status: 401 },
  { name: 'http_auth_group: member', send: req('GET', '/grp/?echo=1', [basic('carol', 'c@r0l:pass')]), status: 200, echo: true },
  { name: 'http_auth_group: not a member, auth without realm', send: req('GET', '/grp/', [basic('bob', 'bobpass')]), status: 401 },
  { name: 'http_auth_group: right group, deny unless', send: req('GET', '/grpstaff/?echo=1', [basic('bob', 'bobpass')]), status: 200, echo: true },
  { name: 'http_auth_group: user without groups', send: req('GET', '/grpstaff/', [basic('dave', 'davepass')]), status: 410 },

  // ---- actions after which the request goes on
  { name: 'set-log-level silent', send: req('GET', '/m/log/?echo=1'), status: 200, echo: true },
  { name: 'disable-l7-retry', send: req('GET', '/m/l7/?echo=1'), status: 200, echo: true },
  { name: 'capture', send: req('GET', '/m/cap/?echo=1', [['User-Agent', 'a-very-long-user-agent/1.0']]), status: 200, echo: true },
  {
    name: 'wait-for-body: a POST body sent in two parts is seen by later rules',
    send: [req('POST', '/m/wfb/?echo=1', [['Content-Length', '12']]), Buffer.from('hello world!')],
    pauseMs: 100,
    status: 200,
    echo: true,
    check: hasHeader('X-Body-Len', '12'),
  },
  { name: 'wait-for-body: a GET without a body', send: req('GET', '/m/wfb/?echo=1'), status: 200, echo: true, check: hasHeader('X-Body-Len', '0') },
];


const CASES_SECTIONS: Case[] = [
  { name: 'deny with errorfiles (http-errors section)', send: req('GET', '/d/errorfiles/'), status: 403 },
  { name: 'return with errorfiles (http-errors section)', send: req('GET', '/r/errorfiles/'), status: 404 },
  { name: 'errorfiles without a message for the status: an empty reply with it', send: req('GET', '/d/missing/'), status: 500 },
  { name: 'errorfiles: content-type and hdr are ignored', send: req('GET', '/r/ignored/'), status: 404 },
  { name: 'http-response deny with errorfiles: 502 by default, not in the section, an empty reply', send: req('GET', '/res/deny/502/'), status: 502 },
  { name: 'http-response deny status 403 with errorfiles', send: req('GET', '/res/deny/403/'), status: 403 },
  { name: 'http-error status 503 errorfiles: the section message', send: req('GET', '/httperr/503/'), status: 503 },
  { name: 'http-error status 502 errorfiles, not in the section: the default page', send: req('GET', '/httperr/502/'), status: 502 },
  { name: 'errorfiles with a code list: the listed code comes from the section', send: req('GET', '/picked/404/'), status: 404 },
  { name: 'errorfiles with a code list: other codes keep the default page', send: req('GET', '/picked/403/'), status: 403 },
  {
    name: 'wait-for-body then req.body in a header',
    send: [req('POST', '/m/wfb/?echo=1', [['Content-Length', '12']]), Buffer.from('hello world!')],
    pauseMs: 100,
    status: 200,
    echo: true,
  },
];

/** Runs one case against both proxies and compares what matters. */
async function runCase(pair: ReferencePair, port: string, c: Case): Promise<void> {
  const got = await exchangeBoth(pair, port, c.send, {
    responses: c.responses,
    methods: c.methods,
    pauseMs: c.pauseMs,
    probe: c.probe === false ? undefined : PROBE,
    timeoutMs: 3000,
  });
  assert.equal(got.haproxy.status, c.status, `haproxy itself answered ${got.haproxy.status}: the case is wrong\n${got.haproxy.raw.slice(0, 600)}`);
  assertSame(c.name, got, {
    // An echo body spells header names as each proxy sent them: its length may differ.
    allHeadersExcept: c.echo ? ['date', 'content-length'] : ['date'],
    headers: ['x-server', 'location', 'content-type', 'set-cookie', 'www-authenticate'],
    body: !c.echo && c.body !== false,
  });
  for (let i = 0; i < got.haproxy.responses.length; i++) {
    assert.equal(got.sluice.responses[i]?.reason, got.haproxy.responses[i]!.reason, `${c.name}: response ${i}: reason phrase differs`);
    if (c.echo) {
      assert.deepEqual(normalizedEcho(echoOf(got.sluice, i)), normalizedEcho(echoOf(got.haproxy, i)), `${c.name}: response ${i}: the origin saw different requests`);
    }
  }
  c.check?.(got.haproxy, 'haproxy');
  c.check?.(got.sluice, 'sluice');
}

/** A suite of `cases` on the port `port` of `template`, run by sluice and haproxy side by side. */
function comparePairs(title: string, template: string, port: string, cases: Case[]): void {
  describe(title, { skip: skipUnless('haproxy') }, () => {
    let pair: ReferencePair | undefined;
    let startError: unknown;
    let origin: Origin;

    before(async () => {
      origin = await startOrigin('app');
      // Crypt hashes made now, with random salts: nothing in the test depends on a fixed hash.
      const hash = (alg: string, pass: string): string => execFileSync('openssl', ['passwd', alg, pass], { encoding: 'utf8' }).trim();
      try {
        pair = await startReferencePair(template, {
          values: { app: origin.port, sha256: hash('-5', 'bobpass'), sha512: hash('-6', 'c@r0l:pass'), md5: hash('-1', 'davepass') },
          files: FILES,
        });
      } catch (e) {
        // Each case then fails with the reason.
        startError = e;
      }
    });

    after(async () => {
      await pair?.stop();
      await origin?.close();
    });

    for (const c of cases) {
      test(c.name, c.todo ? { todo: c.todo } : {}, async () => {
        if (!pair) throw startError;
        await runCase(pair, port, c);
      });
    }
  });
}

test('the request rules corpus has at least 60 cases', () => {
  assert.ok(CASES.length >= 60, `${CASES.length} cases`);
});

comparePairs('request rules compared with haproxy 2.6', CONFIG, 'rq', CASES);
comparePairs('request rules with http-errors sections and req.body, compared with haproxy 2.6', CONFIG_SECTIONS, 'rx', CASES_SECTIONS);
