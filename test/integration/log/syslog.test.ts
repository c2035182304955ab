// `log <ip:port> ...` targets: syslog datagrams over UDP to a receiver on 127.0.0.1. The
// header for the default format and for rfc5424, the facility in PRI, `len` truncation and the
// level filter, each compared with the datagram haproxy 2.6 sends for the same configuration.
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import {
  freePorts,
  request,
  skipUnless,
  startHaproxy,
  startOrigin,
  startSluice,
  type Origin,
  type ProcHandle,
} from '../../harness/index.js';
import { HTTPLOG, fields, sleep } from './lines.js';

const haveHaproxy = skipUnless('haproxy') === false;

/** A UDP receiver on 127.0.0.1 that keeps every datagram. */
interface Receiver {
  port: number;
  grams: Buffer[];
  close(): void;
  /** Resolves with the first datagram (from index `from`) that contains `needle`, or rejects. */
  waitFor(needle: string, from: number, timeoutMs?: number): Promise<Buffer>;
}

async function receiver(): Promise<Receiver> {
  const sock = dgram.createSocket('udp4');
  const grams: Buffer[] = [];
  const waiters = new Set<() => void>();
  sock.on('message', (m) => {
    grams.push(m);
    for (const w of [...waiters]) w();
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return {
    port: sock.address().port,
    grams,
    close: () => sock.close(),
    waitFor: (needle, from, timeoutMs = 3000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = grams.slice(from).find((g) => g.toString('latin1').includes(needle));
          if (!hit) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no datagram with ${needle} within ${timeoutMs} ms (got ${grams.length})`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

/** Targets: default format local0, rfc5424 local3, len 80 local0, rfc3164 local0 up to notice. */
const enum T {
  Default = 0,
  R5424 = 1,
  Len = 2,
  Notice = 3,
}

function config(port: number, origin: number, rx: Receiver[]): string {
  return `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port}
    option httplog
    log 127.0.0.1:${rx[T.Default]!.port} local0
    log 127.0.0.1:${rx[T.R5424]!.port} format rfc5424 local3
    log 127.0.0.1:${rx[T.Len]!.port} len 80 local0
    log 127.0.0.1:${rx[T.Notice]!.port} format rfc3164 local0 notice
    default_backend be
backend be
    server s1 127.0.0.1:${origin}
`;
}

interface Peer {
  name: string;
  p: ProcHandle;
  port: number;
  rx: Receiver[];
}

let origin: Origin;
const peers: Peer[] = [];

before(async () => {
  origin = await startOrigin('o1');
  const start = async (name: string, fn: typeof startSluice): Promise<void> => {
    const rx = [await receiver(), await receiver(), await receiver(), await receiver()];
    const [port] = await freePorts(1);
    peers.push({ name, p: await fn(config(port!, origin.port, rx), { waitPorts: [port!] }), port: port!, rx });
  };
  await start('sluice', startSluice);
  if (haveHaproxy) await start('haproxy', startHaproxy);
});

after(async () => {
  for (const peer of peers) {
    await peer.p.stop();
    for (const r of peer.rx) r.close();
  }
  await origin?.close();
});

/** Makes one request with a unique path on every peer; resolves with each peer's datagram on `t`. */
async function datagrams(t: T, path: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  await Promise.all(
    peers.map(async (peer) => {
      const from = peer.rx[t]!.grams.length;
      assert.equal((await request(peer.port, { path })).status, 200);
      // A truncated datagram may have lost the path: any new one will do there.
      out.set(peer.name, await peer.rx[t]!.waitFor(t === T.Len ? '127.0.0.1:' : path, from));
    }),
  );
  return out;
}

const LEGACY_DATE = String.raw`[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}`;

/** The datagram with its run-dependent parts masked: dates, tag[pid], pid, the httplog fields. */
function maskHeader(g: string, peer: Peer): string {
  return g
    .replace(new RegExp(LEGACY_DATE), 'DATE')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}[+-]\d{2}:\d{2}/, 'ISODATE')
    .replaceAll(`${peer.name}[${peer.p.pid}]`, 'TAG[PID]')
    .replace(` ${peer.name} ${peer.p.pid} `, ' TAG PID ');
}

describe('log to a UDP syslog receiver', () => {
  test('the httplog line arrives as one datagram: <PRI>date tag[pid]: line', async () => {
    const sl = peers[0]!;
    const g = (await datagrams(T.Default, '/udp-one')).get('sluice')!.toString('latin1');
    const m = new RegExp(String.raw`^<134>${LEGACY_DATE} (?:\S+ )?sluice\[${sl.p.pid}\]: (.*)\n$`).exec(g);
    assert.ok(m, `not a syslog datagram: ${JSON.stringify(g)}`);
    const f = fields(HTTPLOG, m[1]!);
    assert.equal(f.r, 'GET /udp-one HTTP/1.1');
    assert.equal(f.ST, '200');
  });

  test('default format: the same header as haproxy (no hostname without log-send-hostname)', { skip: !haveHaproxy && 'haproxy missing' }, async () => {
    const gs = await datagrams(T.Default, '/udp-hdr');
    const head = (name: string): string => {
      const peer = peers.find((p) => p.name === name)!;
      const g = maskHeader(gs.get(name)!.toString('latin1'), peer);
      return g.slice(0, g.indexOf('127.0.0.1:'));
    };
    assert.equal(head('haproxy'), '<134>DATE TAG[PID]: ');
    assert.equal(head('sluice'), head('haproxy'));
  });

  test('format rfc5424 and facility local3: the same header as haproxy', { skip: !haveHaproxy && 'haproxy missing' }, async () => {
    const gs = await datagrams(T.R5424, '/udp-5424');
    const head = (name: string): string => {
      const peer = peers.find((p) => p.name === name)!;
      const g = maskHeader(gs.get(name)!.toString('latin1'), peer);
      return g.slice(0, g.indexOf('127.0.0.1:'));
    };
    assert.equal(head('haproxy'), '<158>1 ISODATE - TAG PID - - ');
    assert.equal(head('sluice'), head('haproxy'));
  });

  test('len 80: the datagram is cut to about 80 bytes and still ends with a newline', async () => {
    const gs = await datagrams(T.Len, '/udp-len-with-a-rather-long-path-to-cut');
    for (const [name, g] of gs) {
      const text = g.toString('latin1');
      assert.ok(g.length >= 79 && g.length <= 81, `${name}: ${g.length} bytes: ${JSON.stringify(text)}`);
      assert.equal(g[g.length - 1], 0x0a, `${name} ends with a newline`);
      assert.match(text, /^<134>.*\]: 127\.0\.0\.1:\d+ \[/, name);
    }
  });

  test('len 80: exactly as many bytes as haproxy sends (80, then the newline)', { skip: !haveHaproxy && 'haproxy missing' }, async () => {
    const gs = await datagrams(T.Len, '/udp-len-with-a-rather-long-path-to-cut');
    assert.equal(gs.get('haproxy')!.length, 81);
    assert.equal(gs.get('sluice')!.length, gs.get('haproxy')!.length);
  });

  test('a target with max level notice gets no traffic log (info)', async () => {
    // The other targets got this request's line; this one gets nothing.
    await datagrams(T.Default, '/udp-level');
    await sleep(200);
    for (const peer of peers) {
      const got = peer.rx[T.Notice]!.grams.map((g) => g.toString('latin1'));
      assert.deepEqual(got.filter((g) => g.includes('/udp-level')), [], peer.name);
    }
  });
});
