import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FILE, PREAMBLE, lines, parse } from './util.js';

const A = '[ALERT]    (1) : config : ';
const W = '[WARNING]  (1) : config : ';
const FATAL = `${A}Fatal errors found in configuration.`;

test('backend references', async () => {
  const r = await parse(`${PREAMBLE}frontend f
    bind :80
    default_backend nope
    use_backend also-nope
    use_backend f2
frontend f2
    bind :81
    default_backend f2
backend b
`);
  assert.equal(r.config, undefined);
  assert.deepEqual(lines(r), [
    `${A}Proxy 'f': unable to find required default_backend: 'nope'.`,
    `${A}Proxy 'f': unable to find required use_backend: 'also-nope'.`,
    `${A}Proxy 'f': unable to find required use_backend: 'f2'.`,
    `${A}Proxy 'f2': unable to find required default_backend: 'f2'.`,
    FATAL,
  ]);
  const loop = await parse(`${PREAMBLE}listen l\n    bind :80\n    default_backend l\n`);
  assert.deepEqual(lines(loop), [`${A}Proxy 'l': loop detected for default_backend: 'l'.`, FATAL]);
});

test('frontend and backend modes must match', async () => {
  const r = await parse(`${PREAMBLE}frontend f
    bind :80
    default_backend b
    use_backend b
backend b
    mode tcp
`);
  assert.deepEqual(lines(r), [
    `${A}http frontend 'f' (${FILE}:6) tries to use incompatible tcp backend 'b' (${FILE}:10) as its default backend (see 'mode').`,
    `${A}http frontend 'f' (${FILE}:6) tries to use incompatible tcp backend 'b' (${FILE}:10) in a 'use_backend' rule (see 'mode').`,
    FATAL,
  ]);
  // A TCP frontend may use an HTTP backend (HAProxy upgrades the connection).
  const up = await parse(`${PREAMBLE}frontend f\n    mode tcp\n    bind :80\n    default_backend b\nbackend b\n`);
  assert.ok(up.config);
});

test('proxy names are unique per capability', async () => {
  const r = await parse(`${PREAMBLE}backend x\nbackend x\nfrontend x\n    bind :80\n    default_backend y\nlisten y\n    bind :81\nfrontend y\n`);
  assert.deepEqual(lines(r).slice(0, 2), [
    `${A}Parsing [${FILE}:7]: backend 'x' has the same name as backend 'x' declared at ${FILE}:6.`,
    `${A}Parsing [${FILE}:13]: frontend 'y' has the same name as proxy 'y' declared at ${FILE}:11.`,
  ]);
  const bad = await parse('backend a/b\n');
  assert.equal(lines(bad)[0], `${A}parsing [${FILE}:1] : character '/' is not permitted in 'backend' name 'a/b'.`);
  const noName = await parse('frontend\n');
  assert.equal(lines(noName)[0], `${A}parsing [${FILE}:1] : 'frontend' expects an <id> argument`);
  const addr = await parse('frontend f :80\n');
  assert.equal(lines(addr)[0], `${A}parsing [${FILE}:1] : please use the 'bind' keyword for listening addresses.`);
});

test('server names are unique in a backend', async () => {
  const r = await parse(`${PREAMBLE}backend b\n    server s 127.0.0.1:80\n    server s 127.0.0.1:81\n`);
  assert.deepEqual(lines(r), [
    `${A}parsing [${FILE}:8] : backend 'b', another server named 's' was already defined at line 7, please use distinct names.`,
    FATAL,
  ]);
});

test('a frontend without bind is a warning; a listen without bind is a backend', async () => {
  const r = await parse(`${PREAMBLE}frontend f\n    default_backend l\nlisten l\n    server s 127.0.0.1:80\n`);
  assert.ok(r.config);
  assert.deepEqual(lines(r), [
    `${W}frontend 'f' has no 'bind' directive. Please declare it as a backend if this was intended.`,
    `${W}proxy 'l' has no 'bind' directive. Please declare it as a backend if this was intended.`,
  ]);
  assert.deepEqual(r.config.proxies[1].binds, []);
});

test('missing timeouts', async () => {
  const r = await parse('frontend f\n    bind :80\n    default_backend b\nbackend b\n    server s 127.0.0.1:80\nbackend empty\n');
  const msg = (who: string): string =>
    `${W}missing timeouts for ${who}.\n` +
    '   | While not properly invalid, you will certainly encounter various problems\n' +
    '   | with such a configuration. To fix this, please ensure that all following\n' +
    "   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.";
  assert.ok(r.config);
  assert.deepEqual(lines(r), [msg("frontend 'f'"), msg("backend 'b'")]);
  // A TCP backend with a tunnel timeout does not need a server timeout.
  const t = await parse('backend b\n    mode tcp\n    timeout connect 1s\n    timeout tunnel 1h\n    server s 127.0.0.1:80\n');
  assert.deepEqual(lines(t), []);
});

test('HTTP-only settings in TCP proxies', async () => {
  const r = await parse(`${PREAMBLE}listen l
    mode tcp
    bind :80
    balance uri
    option forwardfor
    option http-buffer-request
    server s 127.0.0.1:80
`);
  assert.ok(r.config);
  const p = r.config.proxies[0];
  assert.deepEqual(p.balance, { algo: 'roundrobin' });
  assert.equal(p.options.forwardfor, undefined);
  assert.equal(p.options.httpBufferRequest, false);
  assert.deepEqual(lines(r), [
    `${W}Layer 7 hash not possible for proxy 'l' (needs 'mode http'). Falling back to round robin.`,
    `${W}'option forwardfor' ignored for proxy 'l' as it requires HTTP mode.`,
    `${W}'option http-buffer-request' ignored for proxy 'l' as it requires HTTP mode.`,
  ]);
});

test('the 256 MB buffer limit in HTTP mode', async () => {
  const r = await parse(`global\n    tune.bufsize 300000000\n${PREAMBLE}backend b\n`);
  assert.deepEqual(lines(r), [`${A}global.tune.bufsize must be below 256 MB when HTTP is in use (current value = 300000000).`, FATAL]);
});

test('disabled proxies are not checked', async () => {
  const r = await parse(`${PREAMBLE}frontend f\n    disabled\n    bind :80\n    default_backend nope\n`);
  assert.ok(r.config);
  assert.deepEqual(lines(r), []);
});
