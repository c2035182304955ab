// Sinks on real sockets over loopback: UDP (IPv4 and IPv6), unix datagram sockets when the
// optional package is installed, and stdout-like streams that stop reading.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { target } from './fixtures.js';
import { createLogSink, checkLogTarget, droppedLogs, Logger, LogLevel } from '../../../src/log/index.js';

const clock = (): number => Date.UTC(2009, 1, 6, 12, 14, 14, 655);

async function udpServer(type: 'udp4' | 'udp6', host: string): Promise<dgram.Socket | undefined> {
  const server = dgram.createSocket(type);
  try {
    server.bind(0, host);
    await once(server, 'listening');
    return server;
  } catch {
    server.close();
    return undefined;
  }
}

function nextDatagrams(server: dgram.Socket, n: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const got: string[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${got.length}/${n} datagrams`)), 5000);
    server.on('message', (msg) => {
      got.push(msg.toString('latin1'));
      if (got.length === n) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

test('UDP over IPv4 loopback: one datagram per line', async () => {
  const server = (await udpServer('udp4', '127.0.0.1'))!;
  try {
    const { port } = server.address();
    const sink = createLogSink(target({ kind: 'udp', host: '127.0.0.1', port, family: 4, format: 'rfc5424' }), {
      tag: 'sluice', pid: 42, clock,
    });
    const got = nextDatagrams(server, 2);
    sink.send(LogLevel.Info, 'first line');
    sink.send(LogLevel.Alert, 'second line');
    assert.deepEqual(await got, [
      '<134>1 2009-02-06T12:14:14.655000+00:00 - sluice 42 - - first line\n',
      '<129>1 2009-02-06T12:14:14.655000+00:00 - sluice 42 - - second line\n',
    ]);
    sink.close();
  } finally {
    server.close();
  }
});

test('UDP over IPv6 loopback', async (t) => {
  const server = await udpServer('udp6', '::1');
  if (!server) {
    t.skip('no IPv6 loopback on this machine');
    return;
  }
  try {
    const { port } = server.address();
    const sink = createLogSink(target({ kind: 'udp', host: '::1', port, family: 6, format: 'short' }), { clock });
    const got = nextDatagrams(server, 1);
    sink.send(LogLevel.Notice, 'over v6');
    assert.deepEqual(await got, ['<5>over v6\n']);
    sink.close();
  } finally {
    server.close();
  }
});

test('a Logger sends to every target, each with its own framing and levels', async () => {
  const server = (await udpServer('udp4', '127.0.0.1'))!;
  const lines: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  try {
    const { port } = server.address();
    const logger = new Logger(
      [
        target({ kind: 'udp', host: '127.0.0.1', port, format: 'local', facility: 16 }),
        target({ kind: 'stdout', format: 'raw', maxLevel: LogLevel.Notice }),
      ],
      {
        tag: 'web',
        pid: 7,
        clock,
        createSink: (t, o) => createLogSink(t, { ...o, stdout: out }),
      },
    );
    assert.equal(logger.enabled, true);
    const got = nextDatagrams(server, 2);
    logger.traffic('GET / 200');
    logger.event(LogLevel.Alert, 'Server be/s1 is DOWN.');
    assert.deepEqual(await got, [
      '<134>Feb  6 12:14:14 web[7]: GET / 200\n',
      '<129>Feb  6 12:14:14 web[7]: Server be/s1 is DOWN.\n',
    ]);
    // The stdout target only takes notice and more severe.
    assert.deepEqual(lines, ['Server be/s1 is DOWN.\n']);
    logger.close();
    logger.traffic('after close');
    assert.equal(new Logger([]).enabled, false);
  } finally {
    server.close();
  }
});

test('a stdout that stops reading makes lines drop instead of piling up', () => {
  // A pipe whose reader is stuck: writes are accepted but never complete.
  const stuck = new Writable({ highWaterMark: 1024, write() {} });
  const sink = createLogSink(target({ kind: 'stdout', format: 'raw' }), { stdout: stuck });
  const before = droppedLogs();
  const line = 'z'.repeat(1000);
  for (let i = 0; i < 200; i++) sink.send(LogLevel.Info, line);
  const dropped = droppedLogs() - before;
  assert.ok(stuck.writableLength <= 64 * 1024 + 1001, `backlog ${stuck.writableLength}`);
  assert.ok(dropped >= 200 - 66 && dropped < 200, `dropped ${dropped}`);
  sink.close();
});

test('a failing stream is reported once, then lines are dropped', async () => {
  const errors: Error[] = [];
  const broken = new Writable({
    write(_c, _e, cb) {
      cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    },
  });
  const sink = createLogSink(target({ kind: 'stderr', format: 'raw' }), {
    stderr: broken,
    onError: (e) => errors.push(e),
  });
  sink.send(LogLevel.Info, 'one');
  await new Promise((r) => setImmediate(r));
  const before = droppedLogs();
  sink.send(LogLevel.Info, 'two');
  sink.send(LogLevel.Info, 'three');
  await new Promise((r) => setImmediate(r));
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.message, 'write EPIPE');
  assert.equal(droppedLogs() - before, 2);
  sink.close();
});

test('checkLogTarget refuses what sluice cannot send to', () => {
  assert.equal(checkLogTarget(target()), undefined);
  assert.equal(checkLogTarget(target({ kind: 'udp', host: '127.0.0.1', port: 514 })), undefined);
  assert.equal(checkLogTarget(target({ len: 60 })), "invalid log length '60', must be between 80 and 65535");
  assert.equal(checkLogTarget(target({ kind: 'udp', host: '127.0.0.1', port: 70000 })), "invalid port '70000' for log target '127.0.0.1'");
  assert.equal(checkLogTarget(target({ kind: 'unix' })), 'unix log target has no path');
  assert.throws(() => createLogSink(target({ len: 60 })), /invalid log length/);
});

function unixDgramPackage(): { DgramSocket: new () => any } | undefined {
  // Resolved from the log module's own location, as the sink does.
  try {
    const req = createRequire(new URL('../../../src/log/sinks.js', import.meta.url));
    return req('node-unix-socket');
  } catch {
    return undefined;
  }
}

test('unix datagram sockets (/dev/log style)', async (t) => {
  const pkg = unixDgramPackage();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-log-'));
  const path = join(dir, 'log.sock');
  try {
    const unixTarget = target({ kind: 'unix', path, format: 'local', facility: 3 });
    if (!pkg) {
      assert.match(checkLogTarget(unixTarget) ?? '', /needs the optional npm package 'node-unix-socket'/);
      t.skip('node-unix-socket is not installed');
      return;
    }
    assert.equal(checkLogTarget(unixTarget), undefined);
    const server = new pkg.DgramSocket();
    server.bind(path);
    const got = new Promise<string>((resolve) => server.on('data', (b: Buffer) => resolve(b.toString())));
    const sink = createLogSink(unixTarget, { tag: 'sluice', pid: 9, clock });
    sink.send(LogLevel.Err, 'to the syslog socket');
    assert.equal(await got, '<27>Feb  6 12:14:14 sluice[9]: to the syslog socket\n');
    sink.close();
    server.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
