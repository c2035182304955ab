// `%[...]` sample expressions in log-format lines, evaluated against the finished exchange.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, request, runCheck, startOrigin, startSluice } from '../../harness/index.js';

test('log-format %[fetch,converter] items read the request and the response', async (t) => {
  const origin = await startOrigin('s1');
  t.after(() => origin.close());
  const port = await freePort();
  const sl = await startSluice(
    `global
    log stdout format raw local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port}
    # A log line sees the end of the exchange only: what it reads of the request and of the
    # response headers comes through variables (haproxy refuses req.hdr() or path there).
    http-request set-var(txn.host) req.hdr(host),lower
    http-request set-var(txn.path) path
    http-request set-var(txn.query) query
    http-response set-var(txn.srv) res.hdr(x-server)
    log-format "%ci [%[var(txn.host)]] %[var(txn.path)] q=%[var(txn.query)] %ST srv=%[var(txn.srv)] v=%[var(txn.nothing)] m=%[method] st=%[status]"
    default_backend be
backend be
    server s1 127.0.0.1:${origin.port}
`,
    { waitPorts: [port] },
  );
  t.after(() => sl.stop());
  const r = await request(port, { path: '/a/b?x=1&y=2', headers: { Host: 'WWW.Example.COM' } });
  assert.equal(r.status, 200);
  const line = await sl.waitForLine((l: string) => l.includes(' /a/b '), 3000);
  assert.equal(line, '127.0.0.1 [www.example.com] /a/b q=x=1&y=2 200 srv=s1 v=- m=GET st=200');
});

test('an unknown fetch in a log-format is a configuration error with its place', async () => {
  const r = await runCheck(
    'sluice',
    `defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend fe
    bind 127.0.0.1:1
    log-format "%[no.such.fetch]"
    default_backend be
backend be
    server s1 127.0.0.1:2
`,
  );
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Parsing \[.*:8\]: failed to parse log-format : .*unknown fetch method 'no\.such\.fetch'/);
});
