// Compiling log-format strings: syntax, flags, errors worded as HAProxy words them, and the
// plug for the sample-fetch engine.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpRecord } from './fixtures.js';
import {
  compileLogFormat,
  formatLogLine,
  bindSamples,
  registerSampleCompiler,
  sampleExpressions,
  LogFormatError,
  LOG_FORMAT_ALIASES,
  HTTPSLOG_FORMAT,
} from '../../../src/log/index.js';

function render(f: string): string {
  return formatLogLine(compileLogFormat(f), httpRecord());
}

function compileError(f: string): string {
  try {
    compileLogFormat(f);
  } catch (e) {
    assert.ok(e instanceof LogFormatError);
    return e.message;
  }
  assert.fail(`"${f}" compiled`);
}

test('literal text, %% and a lone % before a non-name character', () => {
  assert.equal(render('100%% ok'), '100% ok');
  assert.equal(render('a%%%ci'), 'a%10.0.1.2');
  // HAProxy drops a '%' followed by anything that cannot start an item, and keeps the rest.
  assert.equal(render('x%-y'), 'x-y');
  assert.equal(render('%ci:%cp/%b'), '10.0.1.2:33317/static');
});

test('unknown aliases are refused with HAProxy\'s message', () => {
  assert.equal(
    compileError('%ci %foo'),
    "no such format alias 'foo'. If you wanted to emit the '%' character verbatim, you need to use '%%'",
  );
  assert.equal(
    compileError('%CIx'),
    "no such format alias 'CIx'. If you wanted to emit the '%' character verbatim, you need to use '%%'",
  );
  assert.match(compileError('%OG'), /not supported by sluice yet/);
});

test('syntax errors are worded as HAProxy words them', () => {
  assert.equal(compileError('abc%'), "truncated line after '%'");
  assert.equal(compileError('%{+Q'), "truncated line after '+Q'");
  assert.equal(compileError('%{+Q} x'), "parse argument modifier without alias name near '%{+Q}'");
  assert.equal(
    compileError('50% off'),
    "unexpected alias name near ' ' at position 3 line : '50% off'. Maybe you want to write a single '%', use the syntax '%%'",
  );
  assert.equal(
    compileError('%5'),
    "unexpected alias name near '5' at position 1 line : '%5'. Maybe you want to write a single '%', use the syntax '%%'",
  );
  assert.equal(compileError('%[src'), "missing ']' after 'src'");
  assert.equal(compileError('%[src x]'), "expected ']' after 'src', but found ' '");
  assert.equal(
    compileError('%(a:int)ci'),
    "unexpected output type 'int' at position 4 line : '%(a:int)ci'. Supported types are: str, sint, bool, raw",
  );
  assert.match(compileError('%{+json}o %ci'), /format flag 'json' is not supported by sluice yet/);
});

test('flags: +/- per item, %o for the items after it, unknown flags ignored', () => {
  assert.equal(render('%{+Q}b %b'), '"static" static');
  assert.equal(render('%{+Q}o %b %{-Q}s %f'), '"static" srv1 "http-in"');
  assert.equal(render('%b %{+Q}o %b'), 'static "static"');
  assert.equal(render('%{+Q,+Z}b'), '"static"');
  assert.equal(render('%{+Q}o%{-Q}o%b'), 'static');
});

test('named items are accepted and, without an encoding, print as usual', () => {
  assert.equal(render('%(client)ci %(port:sint)cp %(:str){+Q}b'), '10.0.1.2 33317 "static"');
});

test('sample expressions print "-" until an engine is plugged in', () => {
  registerSampleCompiler(undefined);
  const f = compileLogFormat('%[src] %{+Q}[req.hdr(host),lower] %[str("a]b")]');
  assert.deepEqual(sampleExpressions(f), ['src', 'req.hdr(host),lower', 'str("a]b")']);
  assert.equal(formatLogLine(f, httpRecord()), '- "" -');

  bindSamples(f, (expr) => (ctx) => `${expr}@${String(ctx)}`);
  assert.equal(formatLogLine(f, httpRecord(), 'S'), 'src@S "req.hdr(host),lower@S" str("a]b")@S');
});

test('a registered sample compiler is used at compile time and its errors are wrapped', () => {
  registerSampleCompiler((expr) => {
    if (expr === 'nope') throw new Error("unknown fetch method 'nope'");
    if (expr === 'num') return () => 42;
    if (expr === 'bool') return () => true;
    return () => null;
  });
  try {
    assert.equal(render('%[num] %[bool] %[other] %{+Q}[other]'), '42 1 - ""');
    assert.equal(
      compileError('%[nope]'),
      "failed to parse sample expression <nope> : unknown fetch method 'nope'",
    );
  } finally {
    registerSampleCompiler(undefined);
  }
});

test('unique-id style formats: no "-" for empty values, HTTP encoding of samples', () => {
  const f = compileLogFormat('%{+X}o%ci:%{+X}cp_%[x]_%ID', {
    mandatory: false,
    httpEncode: true,
    sampleCompiler: () => () => 'a\r\nb\tc',
  });
  assert.equal(formatLogLine(f, httpRecord()), '0A000102:8225_a%0D%0Ab\tc_');
});

test('every alias of HAProxy\'s table but %OG compiles', () => {
  const all = ['B', 'CC', 'CS', 'H', 'HM', 'HP', 'HPO', 'HQ', 'HU', 'HV', 'ID', 'ST', 'T', 'Ta', 'Tc',
    'Td', 'Tl', 'Th', 'Ti', 'Tq', 'TR', 'Tr', 'Ts', 'Tt', 'Tu', 'Tw', 'U', 'ac', 'b', 'bc', 'bi', 'bp',
    'bq', 'ci', 'cp', 'f', 'fc', 'fi', 'fp', 'ft', 'lc', 'hr', 'hrl', 'hs', 'hsl', 'ms', 'pid', 'r',
    'rc', 'rt', 's', 'sc', 'si', 'sp', 'sq', 'sslc', 'sslv', 't', 'tr', 'trg', 'trl', 'ts', 'tsc'];
  for (const a of all) compileLogFormat('%' + a);
  assert.deepEqual([...LOG_FORMAT_ALIASES].sort(), [...all].sort());
  assert.doesNotThrow(() => compileLogFormat(HTTPSLOG_FORMAT));
});
