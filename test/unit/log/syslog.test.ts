// Syslog framing per target format, truncation and level filtering, with a fixed clock.
// The expected bytes follow what HAProxy 2.6 sent for the same settings (see the comments).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { target } from './fixtures.js';
import {
  syslogHeader,
  frameLine,
  createLogSink,
  defaultLogFormatKind,
  wallClock,
  LogLevel,
  LOG_FACILITY_NAMES,
  LOG_LEVEL_NAMES,
} from '../../../src/log/index.js';
import type { LogFormatKind, LogTarget } from '../../../src/config/model.js';

// 06/Feb/2009 12:14:14.655123 UTC.
const NOW = Date.UTC(2009, 1, 6, 12, 14, 14, 655) + 0.123;
const clock = (): number => NOW;
const ID = { tag: 'sluice', pid: '1234', hostname: '' };

/** A stdout-like stream that records each write. */
function recorder(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('latin1'));
      cb();
    },
  });
  return { stream, lines };
}

function sendOne(t: LogTarget, level: number, msg: string, hostname = ''): string[] {
  const rec = recorder();
  const sink = createLogSink(t, { tag: 'sluice', pid: 1234, hostname, clock, stdout: rec.stream });
  sink.send(level, msg);
  sink.close();
  return rec.lines;
}

test('headers of every format (local0, info)', () => {
  const cases: Array<[LogFormatKind, string]> = [
    ['raw', ''],
    // HAProxy 2.6: "<181>Nov 21 07:50:49 haproxy[7770]: ..." for `format local local6`.
    ['local', '<134>Feb  6 12:14:14 sluice[1234]: '],
    // HAProxy 2.6 with an explicit `format rfc3164` and no log-send-hostname: "localhost".
    ['rfc3164', '<134>Feb  6 12:14:14 localhost sluice[1234]: '],
    // HAProxy 2.6: "<141>1 2026-11-21T07:50:49.406232+00:00 - haproxy 7770 - - ...".
    ['rfc5424', '<134>1 2009-02-06T12:14:14.655123+00:00 - sluice 1234 - - '],
    ['priority', '<134>'],
    // short and timed carry the level only, without the facility.
    ['short', '<6>'],
    ['timed', '<6>2009-02-06T12:14:14.655123+00:00 '],
    ['iso', '2009-02-06T12:14:14.655123+00:00 '],
  ];
  for (const [format, want] of cases) {
    assert.equal(syslogHeader(format, 16, LogLevel.Info, ID, NOW), want, format);
    assert.deepEqual(sendOne(target({ format }), LogLevel.Info, 'hello'), [want + 'hello\n'], format);
  }
});

test('log-send-hostname appears in rfc3164 and rfc5424 only', () => {
  const id = { ...ID, hostname: 'myhost' };
  assert.equal(syslogHeader('rfc3164', 17, 6, id, NOW), '<142>Feb  6 12:14:14 myhost sluice[1234]: ');
  assert.equal(syslogHeader('rfc5424', 16, 6, id, NOW), '<134>1 2009-02-06T12:14:14.655123+00:00 myhost sluice 1234 - - ');
  assert.equal(syslogHeader('local', 18, 6, id, NOW), '<150>Feb  6 12:14:14 sluice[1234]: ');
  assert.equal(defaultLogFormatKind(true), 'rfc3164');
  assert.equal(defaultLogFormatKind(false), 'local');
});

test('two-digit days are not padded in RFC 3164 timestamps', () => {
  assert.equal(syslogHeader('local', 0, 0, ID, Date.UTC(2024, 10, 21, 7, 5, 9)), '<0>Nov 21 07:05:09 sluice[1234]: ');
});

test('lines are cut so that the whole line, newline included, fits in `len`', () => {
  const msg = 'x'.repeat(200);
  const [line] = sendOne(target({ format: 'local', len: 80 }), LogLevel.Info, msg);
  assert.equal(line!.length, 80);
  assert.equal(line, '<134>Feb  6 12:14:14 sluice[1234]: ' + 'x'.repeat(80 - 36) + '\n');
  // A header longer than len is cut too.
  assert.equal(frameLine('<134>1234567890', 'msg', 5).toString(), '<134\n');
  // Exactly len - 1 bytes of content are not cut.
  assert.equal(frameLine('', 'y'.repeat(79), 80).toString(), 'y'.repeat(79) + '\n');
  // Datagrams keep `len` bytes and add the newline, as HAProxy's sendmsg path does.
  assert.equal(frameLine('<134>1234567890', 'msg', 5, true).toString(), '<134>\n');
  assert.equal(frameLine('', 'y'.repeat(90), 80, true).toString(), 'y'.repeat(80) + '\n');
  assert.equal(frameLine('', 'y'.repeat(80), 80, true).toString(), 'y'.repeat(80) + '\n');
  // Trailing newlines of a message are dropped; 0 means no limit.
  assert.equal(frameLine('', 'abc\n\n', 0).toString(), 'abc\n');
});

test('levels above maxLevel are dropped, levels below minLevel are raised', () => {
  const t = target({ format: 'priority', maxLevel: LogLevel.Notice, minLevel: LogLevel.Err });
  assert.deepEqual(sendOne(t, LogLevel.Info, 'traffic'), []);
  assert.deepEqual(sendOne(t, LogLevel.Notice, 'up'), ['<133>up\n']);
  assert.deepEqual(sendOne(t, LogLevel.Emerg, 'gone'), ['<131>gone\n']);
});

test('level and facility names in HAProxy order', () => {
  assert.equal(LOG_LEVEL_NAMES[LogLevel.Warning], 'warning');
  assert.equal(LOG_FACILITY_NAMES.indexOf('local0'), 16);
  assert.equal(LOG_FACILITY_NAMES.length, 24);
});

test('the wall clock follows Date.now() with sub-millisecond resolution', () => {
  for (let i = 0; i < 100; i++) {
    const before = Date.now();
    const t = wallClock();
    const after = Date.now();
    assert.ok(t >= before && t < after + 1, `${t} not within [${before}, ${after + 1})`);
  }
});
