// HTTP response rules, after-response rules, routing and error pages (issue 3) through sluice and
// haproxy 2.6 side by side: the same configuration, the same bytes, and for each case the same
// status and reason, the same response header set (Date aside), the same body, the same server,
// the same request as the origin received it, and the same connection fate. haproxy's answer is
// the reference: each case first checks haproxy's status and server, so that a wrong case fails
// as such. Request rules are in rules-corpus.test.ts.
import assert from 'node:assert/strict';
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

// Frontend rules run first on requests; on responses the backend's http-response and
// http-after-response rules run before the frontend's. txn.path keeps the path for the response
// side, where request fetches are not dependable.
const CONFIG = `
global
    maxconn 200

http-errors site
    errorfile 403 {{dir}}/site403.http
    errorfile 503 {{dir}}/site503.http

defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:{{port:fe}}
    http-error status 403 content-type text/plain string "forbidden by fe" hdr X-Err fe
    http-request set-var(txn.path) path
    http-request set-var(txn.fe) str(front)
    http-request add-header X-Order fe
    http-request allow if { path_beg /allow/ }
    http-request deny if { path_beg /allow/ }
    http-request deny deny_status 429 if { path_beg /deny/ }
    http-request deny if { path_beg /fedeny/ }
    http-request return status 404 if { path_beg /nf/ }
    http-request return status 200 content-type text/plain string "local" hdr X-Ret yes if { path_beg /ret/ }
    http-request redirect location /elsewhere if { path_beg /redir/ }

    use_backend be_%[req.hdr(x-be),lower] if { req.hdr(x-be) -m found }
    use_backend be_api if { path_beg /api/ }
    use_backend be_multi if { path_beg /multi/ }
    use_backend be_api if { path_beg /multi/api/ }
    use_backend be_none if { path_beg /none/ }
    use_backend be_site if { path_beg /site/ }
    use_backend be_httperr if { path_beg /httperr/ }
    use_backend be_errfile if { path_beg /errfile/ }
    use_backend be_deny if { path_beg /bedeny/ }
    use_backend be_denysite if { path_beg /bedenysite/ }
    default_backend be_web

    http-response add-header X-Order fe
    http-response set-header X-Who fe
    http-response set-header X-Fe-Saw "%[res.hdr(x-be-mark)]" if { res.hdr(x-be-mark) -m found }
    http-response set-header X-Err-Seen "status %[status]" if { status ge 500 }

    http-after-response add-header X-After fe
    http-after-response set-header X-After-Status %[status]
    http-after-response set-status 410 reason "Gone Away" if { var(txn.path) -m sub /after/status/ }
    http-after-response set-status 299 if { var(txn.path) -m sub /after/status2/ }
    http-after-response del-header X-Remove if { var(txn.path) -m beg /after/del/ }
    http-after-response replace-header X-Ret ^yes$ YES if { var(txn.path) -m beg /ret/ }

backend be_web
    http-request add-header X-Order be
    http-request set-header X-Fe-Var %[var(txn.fe)]
    http-request set-var(req.r) str(reqscope)
    http-response add-header X-Order be
    http-response set-header X-Who be
    http-response set-header X-Be-Mark yes
    http-response set-header X-Set resp if { var(txn.path) -m beg /resp/set/ }
    http-response add-header X-Add added if { var(txn.path) -m beg /resp/add/ }
    http-response del-header X-Kill if { var(txn.path) -m beg /resp/del/ }
    http-response replace-header Set-Cookie ^(.*)$ "\\1; Secure" if { var(txn.path) -m beg /resp/rh/ }
    http-response replace-value X-List ^b$ B if { var(txn.path) -m beg /resp/rv/ }
    http-response set-status 202 if { var(txn.path) -m beg /resp/status/ }
    http-response set-status 299 reason "Fine Thanks" if { var(txn.path) -m beg /resp/reason/ }
    http-response set-status 404 if { status 500 } { var(txn.path) -m beg /resp/s500/ }
    http-response deny if { res.hdr(x-secret) -m found }
    http-response deny deny_status 503 content-type text/plain string "hidden by the proxy" hdr X-Denied yes if { var(txn.path) -m beg /resp/deny2/ }
    http-response set-var(txn.st) status if { status 418 }
    http-response return status 200 content-type text/plain lf-string "replaced, origin said %[var(txn.st)]" hdr X-Replaced yes if { status 418 }
    http-response return status 200 content-type text/plain lf-string "origin said [%[status]]" if { status 419 }
    http-response deny status 403 content-type text/plain lf-string "header [%[res.hdr(x-type)]] path [%[var(txn.path)]]" if { status 420 }
    http-response set-var(txn.ctype) res.hdr(x-type)
    http-response set-var(res.len) res.hdr(content-length)
    http-response set-header X-Type "t=%[var(txn.ctype)] len=%[var(res.len)]" if { var(txn.path) -m beg /resp/var/ }
    http-response set-header X-Req-Var "r=%[var(req.r)]" if { var(txn.path) -m beg /resp/reqvar/ }
    http-after-response add-header X-After be
    server web 127.0.0.1:{{web}}

backend be_api
    server api 127.0.0.1:{{api}}

backend be_multi
    balance first
    use-server s2 if { req.hdr(x-srv) s2 }
    use-server s3 if { req.hdr(x-srv) s3 }
    use-server s3 if { path_end /three }
    server s1 127.0.0.1:{{s1}}
    server s2 127.0.0.1:{{s2}}
    server s3 127.0.0.1:{{s3}}

backend be_none
    http-after-response add-header X-After be-none

backend be_site
    errorfiles site

backend be_httperr
    http-error status 503 content-type text/plain string "no server here" hdr X-Err-Page custom

backend be_errfile
    errorfile 503 {{dir}}/plain503.http

backend be_deny
    http-request deny
    server web 127.0.0.1:{{web}}

backend be_denysite
    errorfiles site
    http-request deny
    server web 127.0.0.1:{{web}}
`;

// Dynamic use-server names (sluice refused them at first: kept in their own configuration).
const CONFIG_DYN_SERVER = `
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s

listen dyn
    bind 127.0.0.1:{{port:dyn}}
    balance first
    use-server %[req.hdr(x-pick)] if { req.hdr(x-pick) -m found }
    server s1 127.0.0.1:{{s1}}
    server s2 127.0.0.1:{{s2}}
    server s3 127.0.0.1:{{s3}}
`;

const FILES: Record<string, string> = {
  'site403.http': 'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\nX-From: site\r\n\r\nsite 403\n',
  'site503.http': 'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 9\r\nX-From: site\r\n\r\nsite 503\n',
  'plain503.http': 'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: 21\r\nX-From: errorfile\r\n\r\n<p>errorfile 503</p>\n',
};

interface Case {
  name: string;
  send: Buffer | Buffer[];
  /** haproxy's status: checks the case itself. */
  status: number;
  /** The origin haproxy chose (X-Server), or undefined for a reply of haproxy's own. */
  server?: string;
  /** The response is an echo report: what the origin received must match. */
  echo?: boolean;
  port?: string;
  check?(o: Observed, who: string): void;
  todo?: string;
}

const get = (path: string, headers: Array<[string, string]> = []): Buffer => req('GET', path, headers);
const reason = (text: string) => (o: Observed, who: string): void => assert.equal(o.first?.reason, text, who);


const CASES: Case[] = [
  // ---- frontend and backend rules together
  { name: 'backend http-request rules run after the frontend ones', send: get('/order?echo=1'), status: 200, server: 'web', echo: true },
  { name: 'allow in the frontend does not skip the backend rules', send: get('/allow/x?echo=1'), status: 200, server: 'web', echo: true },
  { name: 'backend response rules run before the frontend ones', send: get('/order'), status: 200, server: 'web' },

  // ---- http-response
  { name: 'http-response set-header', send: get('/resp/set/?hdr=X-Set:origin'), status: 200, server: 'web' },
  { name: 'http-response add-header', send: get('/resp/add/?hdr=X-Add:origin'), status: 200, server: 'web' },
  { name: 'http-response del-header', send: get('/resp/del/?hdr=X-Kill:1&hdr=x-kill:2&hdr=X-Killer:3'), status: 200, server: 'web' },
  { name: 'http-response replace-header on each Set-Cookie', send: get('/resp/rh/?hdr=Set-Cookie:a=1&hdr=Set-Cookie:b=2;%20Path=/'), status: 200, server: 'web' },
  { name: 'http-response replace-value', send: get('/resp/rv/?hdr=X-List:a,b,%20b,c'), status: 200, server: 'web' },
  { name: 'http-response set-status keeps the standard reason', send: get('/resp/status/'), status: 202, server: 'web', check: reason('Accepted') },
  { name: 'http-response set-status with a reason', send: get('/resp/reason/'), status: 299, server: 'web', check: reason('Fine Thanks') },
  { name: 'http-response set-status on { status 500 }; the frontend sees the new status', send: get('/resp/s500/?status=500&size=4'), status: 404, server: 'web' },
  { name: 'condition on status ge 500 in the frontend', send: get('/resp/s500/?status=503'), status: 503, server: 'web' },
  { name: 'http-response deny on res.hdr: 502 replaces the response', send: get('/x?hdr=X-Secret:1&size=100'), status: 502 },
  { name: 'http-response deny with status, string and hdr', send: get('/resp/deny2/?size=10'), status: 503 },
  { name: 'http-response return on { status 418 }', send: get('/x?status=418&size=3'), status: 200 },
  {
    // haproxy 2.6 drops the server's response before building the reply: the status fetch finds nothing.
    name: 'http-response return: %[status] in its lf-string is empty',
    send: get('/x?status=419&size=3'),
    status: 200,
  },
  { name: 'http-response deny: res.hdr in its lf-string is empty, request fetches still work', send: get('/x?status=420&hdr=X-Type:abc&size=3'), status: 403 },
  { name: 'http-response set-var read back in a header (txn and res scopes)', send: get('/resp/var/?hdr=X-Type:abc&size=5'), status: 200, server: 'web' },
  { name: 'a req-scope variable is gone on the response side', send: get('/resp/reqvar/'), status: 200, server: 'web' },
  { name: 'http-response rules on a HEAD response', send: req('HEAD', '/resp/set/?size=9'), status: 200, server: 'web' },

  // ---- http-after-response
  { name: 'after-response on a server response', send: get('/plain?size=3'), status: 200, server: 'web' },
  { name: 'after-response on a deny', send: get('/deny/'), status: 429 },
  { name: 'after-response on a return, replace-header', send: get('/ret/'), status: 200 },
  { name: 'after-response on a redirect', send: get('/redir/?a=1'), status: 302 },
  { name: 'after-response on a return status 404', send: get('/nf/'), status: 404 },
  { name: 'after-response on a 503 (backend without server)', send: get('/none/'), status: 503 },
  { name: 'after-response on an http-response deny', send: get('/resp/x?hdr=X-Secret:yes'), status: 502 },
  { name: 'after-response set-status with a reason on a server response', send: get('/after/status/?size=2'), status: 410, server: 'web', check: reason('Gone Away') },
  { name: 'after-response set-status on a deny', send: get('/deny/after/status/'), status: 410, check: reason('Gone Away') },
  { name: 'after-response set-status to an unknown code', send: get('/after/status2/'), status: 299, server: 'web' },
  { name: 'after-response del-header', send: get('/after/del/?hdr=X-Remove:1&hdr=X-Keep:2'), status: 200, server: 'web' },

  // ---- error pages
  { name: 'errorfiles (http-errors section): 503', send: get('/site/'), status: 503 },
  { name: 'http-error in the backend: 503', send: get('/httperr/'), status: 503 },
  { name: 'errorfile 503', send: get('/errfile/'), status: 503 },
  { name: 'deny in the frontend uses its http-error 403', send: get('/fedeny/'), status: 403 },
  { name: 'deny in a backend without error pages uses the frontend http-error', send: get('/bedeny/'), status: 403 },
  { name: 'deny in a backend with errorfiles', send: get('/bedenysite/'), status: 403 },

  // ---- use_backend
  { name: 'use_backend with a condition', send: get('/api/x'), status: 200, server: 'api' },
  { name: 'the first matching use_backend wins', send: get('/multi/api/x'), status: 200, server: 's1' },
  { name: 'default_backend', send: get('/elsewhere'), status: 200, server: 'web' },
  { name: 'dynamic use_backend (lower-cased header)', send: get('/x', [['X-Be', 'API']]), status: 200, server: 'api' },
  { name: 'dynamic use_backend to a backend without server', send: get('/x', [['X-Be', 'None']]), status: 503 },
  { name: 'dynamic use_backend to an unknown name: default_backend, later rules skipped', send: get('/api/x', [['X-Be', 'nope']]), status: 200, server: 'web' },
  { name: 'dynamic use_backend with an empty header', send: get('/api/x', [['X-Be', '']]), status: 200, server: 'web' },

  // ---- use-server
  { name: 'no use-server matches: balance first', send: get('/multi/x'), status: 200, server: 's1' },
  { name: 'use-server s2', send: get('/multi/x', [['X-Srv', 's2']]), status: 200, server: 's2' },
  { name: 'use-server s3 by path', send: get('/multi/three'), status: 200, server: 's3' },
  { name: 'the first matching use-server wins', send: get('/multi/three', [['X-Srv', 's2']]), status: 200, server: 's2' },
  { name: 'use-server with an unknown value in the header', send: get('/multi/x?echo=1', [['X-Srv', 's9']]), status: 200, server: 's1', echo: true },
  { name: 'use-server through a dynamic use_backend', send: get('/x', [['X-Be', 'multi'], ['X-Srv', 's3']]), status: 200, server: 's3' },
];


const CASES_DYN_SERVER: Case[] = [
  { name: 'use-server with a log-format name', port: 'dyn', send: get('/x', [['X-Pick', 's2']]), status: 200, server: 's2' },
  { name: 'use-server with a log-format name naming no server', port: 'dyn', send: get('/x', [['X-Pick', 'nope']]), status: 200, server: 's1' },
];

/** Runs one case against both proxies and compares what matters. */
async function runCase(pair: ReferencePair, port: string, c: Case): Promise<void> {
  const methods = c.send instanceof Buffer && c.send.toString('latin1').startsWith('HEAD ') ? ['HEAD'] : undefined;
  const got = await exchangeBoth(pair, port, c.send, { methods, probe: PROBE, timeoutMs: 3000 });
  assert.equal(got.haproxy.status, c.status, `haproxy itself answered ${got.haproxy.status}: the case is wrong\n${got.haproxy.raw.slice(0, 600)}`);
  assert.equal(got.haproxy.server, c.server, 'haproxy chose another server: the case is wrong');
  assertSame(c.name, got, {
    // An echo body spells header names as each proxy sent them: its length may differ.
    allHeadersExcept: c.echo ? ['date', 'content-length'] : ['date'],
    headers: ['x-server', 'location', 'content-type', 'set-cookie'],
    body: !c.echo,
  });
  assert.equal(got.sluice.first?.reason, got.haproxy.first?.reason, `${c.name}: reason phrase differs`);
  if (c.echo) assert.deepEqual(normalizedEcho(echoOf(got.sluice)), normalizedEcho(echoOf(got.haproxy)), `${c.name}: the origin saw different requests`);
  c.check?.(got.haproxy, 'haproxy');
  c.check?.(got.sluice, 'sluice');
}

/** A suite of `cases` on the port `port` of `template`, run by sluice and haproxy side by side. */
function comparePairs(title: string, template: string, port: string, cases: Case[]): void {
  describe(title, { skip: skipUnless('haproxy') }, () => {
    let pair: ReferencePair | undefined;
    let startError: unknown;
    const origins: Origin[] = [];

    before(async () => {
      const values: Record<string, number> = {};
      for (const name of ['web', 'api', 's1', 's2', 's3']) {
        const o = await startOrigin(name);
        origins.push(o);
        values[name] = o.port;
      }
      try {
        pair = await startReferencePair(template, { values, files: FILES });
      } catch (e) {
        // Each case then fails with the reason (they are todo while sluice refuses the lines).
        startError = e;
      }
    });

    after(async () => {
      await pair?.stop();
      for (const o of origins) await o.close();
    });

    for (const c of cases) {
      test(c.name, c.todo ? { todo: c.todo } : {}, async () => {
        if (!pair) throw startError;
        await runCase(pair, c.port ?? port, c);
      });
    }
  });
}

comparePairs('response rules, after-response rules, routing and error pages compared with haproxy 2.6', CONFIG, 'fe', CASES);
comparePairs('dynamic use-server names, compared with haproxy 2.6', CONFIG_DYN_SERVER, 'dyn', CASES_DYN_SERVER);
