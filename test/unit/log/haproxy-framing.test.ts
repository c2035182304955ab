// Framing compared with a real HAProxy: when /usr/sbin/haproxy exists, it is started with one
// `log 127.0.0.1:PORT` line per format, a server check fails on loopback, and every datagram
// it sends must equal, byte for byte, what sluice frames for the same message, level, tag,
// pid and timestamp. Skipped when HAProxy is not installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import './fixtures.js';
import {
  frameLine,
  syslogHeader,
  serverDownMessage,
  noServerAvailableMessage,
  LogLevel,
  LOG_FACILITY_NAMES,
} from '../../../src/log/index.js';
import type { LogFormatKind } from '../../../src/config/model.js';

const HAPROXY = '/usr/sbin/haproxy';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const FORMATS: LogFormatKind[] = ['local', 'rfc3164', 'rfc5424', 'priority', 'short', 'timed', 'iso', 'raw'];

/** The time a datagram's header carries (ISO with microseconds, or RFC 3164 to the second). */
function headerTime(d: string): number | undefined {
  const iso = /(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})\+00:00/.exec(d);
  if (iso) {
    const [, y, mo, da, h, mi, s, us] = iso.map(Number) as number[];
    return Date.UTC(y!, mo! - 1, da!, h!, mi!, s!) + us! / 1000;
  }
  const legacy = /^<\d+>([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) /.exec(d);
  if (legacy) {
    const year = new Date().getUTCFullYear();
    return Date.UTC(year, MONTHS.indexOf(legacy[1]!), Number(legacy[2]), Number(legacy[3]), Number(legacy[4]), Number(legacy[5]));
  }
  return undefined;
}

test('syslog framing matches HAProxy byte for byte', { skip: !existsSync(HAPROXY) && 'HAProxy is not installed' }, async () => {
  const server = dgram.createSocket('udp4');
  server.bind(0, '127.0.0.1');
  await once(server, 'listening');
  const port = server.address().port;
  const got: string[] = [];
  const expected = FORMATS.length * 2;
  const done = new Promise<void>((resolve) => {
    server.on('message', (m) => {
      got.push(m.toString('latin1'));
      if (got.length >= expected) resolve();
    });
  });

  const dir = mkdtempSync(join(tmpdir(), 'sluice-log-haproxy-'));
  const cfg = join(dir, 'h.cfg');
  writeFileSync(
    cfg,
    [
      'global',
      '    log-send-hostname h1',
      ...FORMATS.map((f, i) => `    log 127.0.0.1:${port} format ${f} ${LOG_FACILITY_NAMES[16 + i]}`),
      'defaults',
      '    log global',
      '    timeout connect 1s',
      '    timeout client 5s',
      '    timeout server 5s',
      // HAProxy refuses to start without a listener: a unix socket keeps it off the network.
      'frontend fe',
      `    bind unix@${join(dir, 'fe.sock')}`,
      '    default_backend be',
      'backend be',
      '    server s1 127.0.0.1:1 check inter 100 fall 1 rise 1',
      '',
    ].join('\n'),
  );
  const child = spawn(HAPROXY, ['-f', cfg, '-db'], { env: { ...process.env, TZ: 'UTC' }, stdio: 'ignore' });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 10000);
  try {
    await Promise.race([done, once(child, 'exit')]);
  } finally {
    clearTimeout(timeout);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(got.length >= expected, `received ${got.length} of ${expected} datagrams: ${JSON.stringify(got)}`);

  const pid = String(child.pid);
  const id = { tag: 'haproxy', pid, hostname: 'h1' };
  const matched = new Set<string>();
  for (const d of got.slice(0, expected)) {
    const durationAt = d.indexOf('check duration: ');
    const duration = durationAt < 0 ? 0 : parseInt(d.slice(durationAt + 16), 10);
    const messages: Array<[number, string]> = [
      [
        LogLevel.Alert,
        serverDownMessage({
          backend: 'be', server: 's1', backup: false,
          cause: { desc: 'Layer4 connection problem', info: 'Connection refused', durationMs: duration },
          activeServers: 0, backupServers: 0, curSess: 0, xferred: 0, queued: 0,
        }),
      ],
      [LogLevel.Emerg, noServerAvailableMessage('backend', 'be')],
    ];
    const time = headerTime(d) ?? 0;
    let found = '';
    for (const [i, format] of FORMATS.entries()) {
      for (const [level, msg] of messages) {
        const mine = frameLine(syslogHeader(format, 16 + i, level, id, time), msg, 1024).toString('latin1');
        if (mine === d) found = `${format}/${level}`;
      }
    }
    assert.ok(found, `no sluice framing reproduces ${JSON.stringify(d)}`);
    matched.add(found);
  }
  assert.equal(matched.size, expected, `matched ${[...matched].join(', ')}`);
});
