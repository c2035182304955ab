import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FILE, lines, ok, parse } from './util.js';

const T = '    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n';

test('a proxy inherits from the last defaults section before it', async () => {
  const cfg = await ok(`defaults
    mode http
${T}    retries 7
    option dontlognull
listen a
    bind :80
    server s 127.0.0.1:80
defaults
    mode tcp
${T}listen b
    bind :81
    server s 127.0.0.1:80
`);
  const [a, b] = cfg.proxies;
  assert.equal(a.mode, 'http');
  assert.equal(a.retries, 7);
  assert.equal(a.options.dontlognull, true);
  // The second anonymous defaults section replaced the first one.
  assert.equal(b.mode, 'tcp');
  assert.equal(b.retries, 3);
  assert.equal(b.options.dontlognull, false);
});

test('named defaults and "from"', async () => {
  const cfg = await ok(`defaults http-base
    mode http
${T}    maxconn 100
    balance leastconn
defaults tcp-base
    mode tcp
${T}defaults long from http-base
    timeout server 10m
frontend fh from http-base
    bind :80
    default_backend bh
backend bh from long
    server s 127.0.0.1:80
frontend ft
    bind :81
    default_backend bt
backend bt
    server s 127.0.0.1:80
`);
  const [fh, bh, ft, bt] = cfg.proxies;
  assert.equal(fh.mode, 'http');
  assert.equal(fh.maxconn, 100);
  assert.equal(bh.mode, 'http');
  assert.deepEqual(bh.balance, { algo: 'leastconn' });
  assert.equal(bh.timeouts.server, 600000);
  assert.equal(bh.timeouts.connect, 1000);
  // Without "from", the last defaults section (long) applies.
  assert.equal(ft.mode, 'http');
  assert.equal(bt.timeouts.server, 600000);
});

test('"defaults from NAME" creates an anonymous defaults section', async () => {
  const cfg = await ok(`defaults base
    mode http
${T}defaults from base
    retries 9
backend b
`);
  assert.equal(cfg.proxies[0].mode, 'http');
  assert.equal(cfg.proxies[0].retries, 9);
});

test('frontend settings are inherited by frontends, backend ones by backends', async () => {
  const cfg = await ok(`defaults
    mode http
${T}    maxconn 50
    fullconn 60
    default_backend b
    timeout tunnel 1h
    default-server weight 30
frontend f
    bind :80
backend b
    server s 127.0.0.1:80
`);
  const [f, b] = cfg.proxies;
  assert.equal(f.maxconn, 50);
  assert.equal(f.defaultBackend, 'b');
  assert.equal(f.timeouts.tunnel, undefined);
  assert.equal(f.timeouts.server, undefined);
  assert.equal(b.maxconn, 0);
  assert.equal(b.defaultBackend, undefined);
  assert.equal(b.fullconn, 60);
  assert.equal(b.timeouts.tunnel, 3600000);
  assert.equal(b.timeouts.client, undefined);
  assert.equal(b.servers[0].weight, 30);
});

test('"disabled" in defaults disables the following proxies', async () => {
  const cfg = await ok(`defaults\n    disabled\nbackend b\n`);
  assert.equal(cfg.proxies[0].disabled, true);
});

test('defaults errors', async () => {
  const r = await parse('defaults a\n    mode http\nfrontend f from nope\n    bind :80\n');
  assert.deepEqual(lines(r), [
    `[ALERT]    (1) : config : parsing [${FILE}:3] : defaults section 'nope' not found for frontend 'f'.`,
    `[ALERT]    (1) : config : Error(s) found in configuration file : ${FILE}`,
  ]);
  const amb = await parse('defaults a\ndefaults a\nbackend b from a\n');
  assert.equal(
    lines(amb)[0],
    `[ALERT]    (1) : config : parsing [${FILE}:3] : ambiguous defaults section name 'a' referenced by backend 'b' exists at least at ${FILE}:1 and ${FILE}:2.`,
  );
  const mix = await parse('defaults a\nbackend b from a\nbackend c\n');
  assert.ok(mix.config, 'mixing explicit and implicit uses is a non-fatal alert');
  assert.equal(
    lines(mix)[0],
    `[ALERT]    (1) : config : parsing [${FILE}:3] : defaults section 'a' (declared at ${FILE}:1) is explicitly referenced by another proxy and implicitly used here. To avoid any ambiguity don't mix both usage. Add a last defaults section not explicitly used or always use explicit references.`,
  );
  const extra = await parse('defaults a b\n');
  assert.ok(extra.config);
  assert.equal(lines(extra)[0], `[WARNING]  (1) : config : parsing [${FILE}:1] : 'defaults' : unexpected argument 'b' is ignored.`);
});
