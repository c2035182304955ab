// Cross-checks sluice's verdict with HAProxy's own `haproxy -c` on the same files: both must
// accept or refuse each configuration. Skipped when HAProxy is not installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/index.js';
import { fakeResolver } from './util.js';

const HAPROXY = '/usr/sbin/haproxy';

const BASE = `global
    maxconn 1000
    log stdout format raw local0
defaults
    mode http
    log global
    timeout connect 5s
    timeout client 30s
    timeout server 30s
`;

/** [name, expected verdict, configuration] */
const CASES: Array<[string, boolean, string]> = [
  ['simple listen', true, `${BASE}listen web\n    bind 127.0.0.1:18080\n    server s1 127.0.0.1:8000\n`],
  [
    'frontend, backends and options',
    true,
    `${BASE}frontend www
    bind :18080 name main maxconn 500
    bind [::1]:18081 v6only
    option httplog
    option forwardfor except 127.0.0.0/8 header X-Client if-none
    option http-server-close
    option dontlognull
    maxconn 2000
    use_backend static
    default_backend app
    http-request return status 503 content-type text/plain string "maintenance" hdr Retry-After 60
backend app
    balance uri len 16 depth 2
    hash-type consistent djb2 avalanche
    option redispatch 2
    option allbackups
    retries 5
    http-reuse aggressive
    fullconn 100
    default-server weight 10 maxconn 50 inter 2s fall 3 rise 2
    server a1 127.0.0.1:8001 check
    server a2 127.0.0.1:8002 backup weight 0 id 7 pool-max-conn 10 pool-purge-delay 1s max-reuse 100 maxqueue 10
    server a3 127.0.0.1
backend static
    balance random(3)
    timeout queue 2s
    timeout http-request 5s
    server s1 [::1]:9000 disabled
`,
  ],
  [
    'named defaults and from',
    true,
    `defaults http-base
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
defaults tcp-base from http-base
    mode tcp
frontend f from http-base
    bind :18080
    default_backend b
backend b from http-base
    server s 127.0.0.1:80
listen t from tcp-base
    bind :18081
    balance leastconn
    option tcplog
    server s 127.0.0.1:81
`,
  ],
  ['global keywords', true, `global\n    maxconn 100\n    nbthread 2\n    tune.bufsize 32768\n    tune.maxrewrite 1024\n    tune.http.maxhdr 200\n    hard-stop-after 10s\n    pidfile /tmp/sluice-test.pid\n    log 127.0.0.1:514 local0 info\n    log-tag test\n${BASE.replace('global\n', 'global\n')}listen l\n    bind :18080\n    server s 127.0.0.1:80\n`],
  ['conditional blocks and environment', true, `${BASE}listen l\n.if defined(SLUICE_COMPAT_PORT)\n    bind ":\${SLUICE_COMPAT_PORT}"\n.else\n    bind :1\n.endif\n    server s "\${SLUICE_COMPAT_HOST-127.0.0.1}:80"\n`],
  ['missing timeouts are only warnings', true, 'listen l\n    bind :18080\n    server s 127.0.0.1:80\n'],
  ['repeated global maxconn is a non-fatal alert', true, 'global\n    maxconn 10\n    maxconn 20\nlisten l\n    bind :18080\n'],
  ['http-request rules in a named defaults', true, `${BASE.replace('defaults\n', 'defaults web\n')}frontend f from web\n    bind :18080\n    http-request return status 200\n`],
  ['unknown keyword', false, `${BASE}listen l\n    bind :18080\n    balanse roundrobin\n`],
  ['mode mismatch', false, `${BASE}frontend f\n    bind :18080\n    default_backend b\nbackend b\n    mode tcp\n`],
  ['unknown backend', false, `${BASE}frontend f\n    bind :18080\n    use_backend nope\n`],
  ['duplicate server', false, `${BASE}backend b\n    server s 127.0.0.1:80\n    server s 127.0.0.1:81\n`],
  ['duplicate backend', false, `${BASE}backend b\nbackend b\n`],
  ['bad timeout', false, `${BASE}listen l\n    bind :18080\n    timeout client 10x\n`],
  ['unmatched quote', false, `${BASE}listen l\n    bind ":18080\n`],
  ['invalid port', false, `${BASE}listen l\n    bind :99999\n`],
  ['removed keyword', false, `${BASE}listen l\n    bind :18080\n    contimeout 5s\n`],
  ['server weight too high', false, `${BASE}backend b\n    server s 127.0.0.1:80 weight 300\n`],
  ['nbproc', false, 'global\n    nbproc 2\n'],
  ['http-request return with a bad status', false, `${BASE}frontend f\n    bind :18080\n    http-request return status 700\n`],
  ['http-request in anonymous defaults', false, `${BASE}    http-request return status 200\n`],
  ['errorfile with an unknown status', false, `${BASE}backend b\n    errorfile 299 /etc/hosts\n`],
  ['unterminated .if', false, `${BASE}.if 1\nlisten l\n    bind :18080\n`],
  ['server in a frontend', false, `${BASE}frontend f\n    bind :18080\n    server s 127.0.0.1:80\n`],
  ['bad log facility', false, 'global\n    log stdout local9\n'],
];

const env = { SLUICE_COMPAT_PORT: '18082', PATH: process.env.PATH ?? '' };

function haproxyAccepts(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(HAPROXY, ['-c', '-q', '-f', file], { env }, (err) => {
      // 0: valid; 2: valid but would not start (no listener).
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve(code === 0 || code === 2);
    });
  });
}

test('sluice and haproxy -c accept and refuse the same configurations', { skip: !existsSync(HAPROXY) && `${HAPROXY} is not installed` }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-compat-'));
  for (const [name, expected, text] of CASES) {
    const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.cfg`);
    writeFileSync(file, text);
    const ours = (await loadConfig([file], { env, resolve: fakeResolver })).config !== undefined;
    const theirs = await haproxyAccepts(file);
    assert.equal(theirs, expected, `haproxy on "${name}"`);
    assert.equal(ours, expected, `sluice on "${name}"`);
  }
});
