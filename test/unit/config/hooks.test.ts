// The hooks later features install (ACL conditions, log formats). This file runs in its own
// process, so the registrations do not leak into the other tests.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerConditionChecker, registerLogFormatChecker } from '../../../src/config/index.js';
import { FILE, PREAMBLE, alertAt, lines, ok, parse } from './util.js';

test('a registered condition checker accepts and refuses conditions', async () => {
  registerConditionChecker((cond) => (cond.tokens[0] === 'BAD' ? "unknown ACL 'BAD'" : undefined));
  const cfg = await ok(`${PREAMBLE}frontend f
    bind :80
    use_backend b unless TRUE
    http-request return status 403 if { src 10.0.0.0/8 }
    default_backend b
backend b
`);
  const f = cfg.proxies[0];
  assert.deepEqual(f.useBackends[0].cond, { polarity: 'unless', tokens: ['TRUE'], loc: { file: FILE, line: 8 } });
  assert.deepEqual(f.httpRequestRules[0].words, ['return', 'status', '403', 'if', '{', 'src', '10.0.0.0/8', '}']);
  const r = await parse(`${PREAMBLE}frontend f\n    bind :80\n    use_backend b if BAD\nbackend b\n`);
  assert.equal(lines(r)[0], alertAt(8, "error detected while parsing switching rule : unknown ACL 'BAD'."));
});

test('a registered log-format checker runs at check time', async () => {
  registerLogFormatChecker((fmt) => (fmt.includes('%[') ? "no sample fetch in '%['" : undefined));
  await ok(`${PREAMBLE}listen l\n    bind :80\n    log stdout local0\n    log-format "%ci %ST"\n`);
  const r = await parse(`${PREAMBLE}listen l\n    bind :80\n    log stdout local0\n    log-format "%[src]"\n`);
  assert.deepEqual(lines(r), [
    `[ALERT]    (1) : config : Parsing [${FILE}:9]: failed to parse log-format : no sample fetch in '%['.`,
    '[ALERT]    (1) : config : Fatal errors found in configuration.',
  ]);
});
