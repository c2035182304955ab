import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE, PREAMBLE, alertAt, lines, ok, parse, warningAt } from './util.js';

const front = (body: string): string => `${PREAMBLE}frontend f\n    bind :80\n${body}\n    default_backend b\nbackend b\n`;

test('http-request return', async () => {
  const cfg = await ok(
    front(`    http-request return
    http-request return status 404 content-type text/plain string "not here" hdr X-A 1 hdr X-B "50%% off"
    http-request return status 204 hdr Cache-Control no-store`),
  );
  const rules = cfg.proxies[0].httpRequestRules;
  // Rules are kept as written (with their line), and compiled by the running proxy.
  assert.deepEqual(rules.map((r) => [r.words, r.loc]), [
    [['return'], { file: FILE, line: 8 }],
    [['return', 'status', '404', 'content-type', 'text/plain', 'string', 'not here', 'hdr', 'X-A', '1', 'hdr', 'X-B', '50%% off'], { file: FILE, line: 9 }],
    [['return', 'status', '204', 'hdr', 'Cache-Control', 'no-store'], { file: FILE, line: 10 }],
  ]);
});

test('http-request return warnings', async () => {
  const r = await parse(front(`    http-request return status 200 content-type text/plain
    http-request return status 200 content-type text/html
    http-request return string x content-type text/plain hdr Content-Length 3`));
  assert.ok(r.config);
  assert.deepEqual(lines(r), [
    warningAt(8, "content-type 'text/plain' ignored by the http reply because neither errorfile nor payload defined."),
    `[WARNING]  (1) : config : parsing [${FILE}:9]: previous 'http-request' action is final and has no condition attached, further entries are NOOP.`,
    warningAt(9, "content-type 'text/html' ignored by the http reply because neither errorfile nor payload defined."),
    `[WARNING]  (1) : config : parsing [${FILE}:10]: previous 'http-request' action is final and has no condition attached, further entries are NOOP.`,
    warningAt(10, "header 'Content-Length' always ignored by the http reply."),
  ]);
});

test('http-request errors', async () => {
  const pre = "error detected in frontend 'f' while parsing 'http-request return' rule : ";
  const cases: Array<[string, string]> = [
    ['http-request return status 700', `${pre}Unexpected status code '700'.`],
    ['http-request return status', `${pre}'status' expects <status_code> as argument.`],
    ['http-request return string x', `${pre}a content type must be defined when non-empty payload is configured.`],
    ['http-request return status 204 content-type a/b string x', `${pre}No body expected for 204 responses.`],
    ['http-request return string a string b content-type t/p', `${pre}unexpected 'string' argument, 'string' already defined.`],
    ['http-request return hdr X', `${pre}'hdr' expects <name> and <value> as arguments.`],
    ['http-request return errorfile /nonexistent/x', `${pre}error opening file '/nonexistent/x'..`],
    ['http-request track-sc0 src', "'http-request track-sc0' is not supported yet by sluice."],
    ['http-response cache-store c', "'http-response cache-store' is not supported yet by sluice."],
  ];
  for (const [line, msg] of cases) {
    const r = await parse(front(`    ${line}`));
    assert.deepEqual(lines(r).slice(0, 1), [alertAt(8, msg)], line);
  }
  const bad = await parse(front('    http-request return bar'));
  assert.deepEqual(lines(bad).slice(0, 1), [
    `[ALERT]    (1) : config : parsing [${FILE}:8]: 'http-request return' expects either 'if' or 'unless' followed by a condition but found 'bar'.`,
  ]);
  const unknown = await parse(front('    http-request retrun'));
  assert.match(lines(unknown)[0], /: 'http-request' expects 'add-acl', .*'return', .*, but got 'retrun'\. Did you mean 'return' maybe \?$/);
  const anon = await parse(`${PREAMBLE}    http-request return\n`);
  assert.deepEqual(lines(anon).slice(0, 1), [alertAt(6, "'http-request' not allowed in anonymous 'defaults' section.")]);
});

test('http-request rules of a named defaults section run first', async () => {
  const cfg = await ok(`defaults web
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
    http-request return status 503 if { always_false }
frontend f from web
    bind :80
    http-request return status 200
`.replace(' if { always_false }', ''));
  assert.deepEqual(cfg.proxies[0].httpRequestRules.map((r) => [r.words[2], r.loc.line]), [['503', 6], ['200', 9]]);
  const listen = await parse(`defaults web\n    mode http\n    http-request return\nlisten l from web\n    bind :80\n`);
  assert.deepEqual(lines(listen).slice(0, 1), [
    `[ALERT]    (1) : config : parsing [${FILE}:4]: a listen section cannot inherit from a defaults section defining TCP/HTTP rules.`,
  ]);
  const both = await parse(`defaults web\n    mode http\n    http-request return\nfrontend f from web\n    bind :80\nbackend b from web\n`);
  assert.deepEqual(lines(both).slice(0, 1), [
    `[ALERT]    (1) : config : parsing [${FILE}:6]: frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at ${FILE}:1).`,
  ]);
});

test('errorfile', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cfg-'));
  const good = join(dir, '503.http');
  const body = 'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: 4\r\n\r\ndown';
  writeFileSync(good, body);
  writeFileSync(join(dir, 'bad.http'), 'hello world\n');
  writeFileSync(join(dir, 'len.http'), 'HTTP/1.0 503 x\nContent-Length: 10\n\nabc');
  writeFileSync(join(dir, 'chunk.http'), 'HTTP/1.1 503 x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  writeFileSync(join(dir, 'empty.http'), '');
  // Same files and expected offsets as checked against HAProxy 2.6.
  writeFileSync(join(dir, 'hdr.http'), 'HTTP/1.1 503 x\r\nbad header\r\n\r\n');
  writeFileSync(join(dir, 'inc.http'), 'HTTP/1.1 503 x\r\n');
  writeFileSync(join(dir, 'dcl.http'), 'HTTP/1.1 503 x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc');
  writeFileSync(join(dir, 'pl.http'), 'HTTP/1.1 503 x\r\nContent-Length: 0\r\n\r\nxx');
  const cfg = await ok(front(`    errorfile 503 ${good}\n    errorfile 200 ${join(dir, 'empty.http')}`));
  const files = cfg.proxies[0].errorfiles;
  assert.equal(files.get(503)?.toString(), body);
  assert.equal(files.get(200)?.length, 0);
  const cases: Array<[string, string]> = [
    [`errorfile 599 ${good}`, "errorfile : status code '599' not handled."],
    ['errorfile 503', 'errorfile : expects <status_code> and <file> as arguments.'],
    [`errorfile 503 ${dir}/nope.http`, `errorfile : error opening file '${dir}/nope.http'.`],
    [`errorfile 503 ${dir}/bad.http`, `errorfile : '${dir}/bad.http': unable to parse headers (error offset: 0)`],
    [`errorfile 503 ${dir}/hdr.http`, `errorfile : '${dir}/hdr.http': unable to parse headers (error offset: 19)`],
    [`errorfile 503 ${dir}/inc.http`, `errorfile : '${dir}/inc.http': unable to parse headers (error offset: -2)`],
    [`errorfile 503 ${dir}/dcl.http`, `errorfile : '${dir}/dcl.http': unable to parse headers (error offset: 51)`],
    [`errorfile 503 ${dir}/pl.http`, `errorfile : '${dir}/pl.http': message payload not expected`],
    [`errorfile 503 ${dir}/len.http`, `errorfile : '${dir}/len.http': payload size does not match the announced content-length (3 != 10)`],
    [`errorfile 503 ${dir}/chunk.http`, `errorfile : '${dir}/chunk.http': chunk-encoded payload not supported`],
  ];
  for (const [line, msg] of cases) {
    const r = await parse(front(`    ${line}`));
    assert.deepEqual(lines(r).slice(0, 1), [alertAt(8, msg)], line);
  }
  // Error files of a defaults section are inherited.
  const inh = await ok(`${PREAMBLE}    errorfile 503 ${good}\nbackend b\n`);
  assert.equal(inh.proxies[0].errorfiles.get(503)?.toString(), body);
});
