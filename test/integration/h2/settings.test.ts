// The SETTINGS an HTTP/2 client sees from sluice (tune.h2.* and their fe. forms; defaults 4096 /
// 65535 / 16384 / 100), max-concurrent-streams kept and enforced, which timeout closes an idle
// HTTP/2 connection, and the graceful stop (SIGUSR1) with HTTP/2 streams in progress:
// GOAWAY(NO_ERROR), the streams finish, the process exits. Each scenario runs against haproxy 2.6
// as well, where 2.6 has the keyword.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  H2Client,
  freePort,
  nghttp,
  rawConnect,
  skipUnless,
  startHaproxy,
  startOrigin,
  startSluice,
  type Origin,
  type ProcHandle,
} from '../../harness/index.js';
import { haveHaproxy, lazySides, sideTest } from '../../harness/sides.js';
import { FrameType, PREFACE, frame, getRequest, parseFrames, streamEnds } from '../../harness/h2-frames.js';
import { assertWhole } from './util.js';

let origin: Origin;
before(async () => {
  origin = await startOrigin('o');
});
after(async () => {
  await origin?.close();
});

const TUNE_TEMPLATE = (global: string): string => `global
${global}
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend h2
    bind 127.0.0.1:{{port:h2}} proto h2
    default_backend be
backend be
    server s1 127.0.0.1:{{origin}}
`;

interface TuneCase {
  name: string;
  global: string;
  /** The SETTINGS a client sees (announced or RFC defaults when not announced). */
  expect: { headerTableSize?: number; initialWindowSize?: number; maxFrameSize?: number; maxConcurrentStreams?: number };
  noReference?: string;
  todo?: string;
}

const TUNES: TuneCase[] = [
  {
    name: 'defaults: 4096 / 65535 / 16384 / 100',
    global: '',
    expect: { headerTableSize: 4096, initialWindowSize: 65535, maxFrameSize: 16384, maxConcurrentStreams: 100 },
  },
  {
    name: 'common tune.h2.* forms',
    global: '    tune.h2.header-table-size 8192\n    tune.h2.initial-window-size 100000\n    tune.h2.max-concurrent-streams 5',
    expect: { headerTableSize: 8192, initialWindowSize: 100000, maxConcurrentStreams: 5 },
  },
  {
    name: 'max-concurrent-streams 0 is unlimited',
    global: '    tune.h2.max-concurrent-streams 0',
    expect: { maxConcurrentStreams: 0xffffffff },
    noReference: 'haproxy 2.6.12 refuses every stream with 0, against its documentation (zero disables the limit)',
  },
  {
    name: 'max-frame-size within tune.bufsize',
    global: '    tune.bufsize 65536\n    tune.h2.max-frame-size 32768',
    expect: { maxFrameSize: 32768 },
  },
  {
    name: 'max-frame-size above tune.bufsize is capped to the buffer size',
    global: '    tune.h2.max-frame-size 32768',
    expect: { maxFrameSize: 16384 },
  },
  {
    name: 'tune.h2.fe.max-concurrent-streams 5',
    global: '    tune.h2.fe.max-concurrent-streams 5',
    expect: { maxConcurrentStreams: 5 },
    noReference: 'haproxy 2.6 has no tune.h2.fe.* keywords (2.8 and later)',
  },
  {
    name: 'tune.h2.fe.initial-window-size over the common form',
    global: '    tune.h2.initial-window-size 100000\n    tune.h2.fe.initial-window-size 200000',
    expect: { initialWindowSize: 200000 },
    noReference: 'haproxy 2.6 has no tune.h2.fe.* keywords (2.8 and later)',
  },
];

describe('SETTINGS announced by tune.h2.*', () => {
  const started: Array<ReturnType<typeof lazySides>> = [];
  after(async () => {
    for (const s of started) await s.stop();
  });
  for (const c of TUNES) {
    const src = lazySides(TUNE_TEMPLATE(c.global), () => ({ values: { origin: origin.port } }));
    started.push(src);
    sideTest(`SETTINGS: ${c.name}`, src, async (side) => {
      const client = await H2Client.connect(side.port('h2'));
      try {
        const got = client.remoteSettings;
        assert.ok(got, 'no SETTINGS from the server');
        for (const [k, v] of Object.entries(c.expect)) assert.equal(got[k as keyof typeof got], v, `${k}: ${JSON.stringify(got)}`);
        // The connection works with them.
        assertWhole(await client.request({ path: '/?size=70000' }), 70000, 'a body larger than one window');
      } finally {
        client.destroy();
      }
    }, { todo: c.todo, noReference: c.noReference });
  }

  const mcs5 = lazySides(TUNE_TEMPLATE('    tune.h2.max-concurrent-streams 5'), () => ({ values: { origin: origin.port } }));
  started.push(mcs5);
  sideTest('max-concurrent-streams 5: a client keeping to it gets every answer', mcs5, async (side) => {
    const c = await H2Client.connect(side.port('h2'));
    try {
      assert.equal(c.remoteSettings?.maxConcurrentStreams, 5);
      const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => c.request({ path: `/m${i}?size=100&delay=50` })));
      rs.forEach((r, i) => assertWhole(r, 100, `stream ${i}`));
    } finally {
      c.destroy();
    }
  });

  sideTest('max-concurrent-streams 5: streams opened beyond it are refused, the others answered', mcs5, async (side) => {
    // Ten requests sent with the preface, before the server's SETTINGS can be read (a real client
    // may or may not have read them first, depending on scheduling): at most 5 are open at once,
    // the rest are refused with REFUSED_STREAM (7), and every stream ends one way or the other.
    const ids = Array.from({ length: 10 }, (_, i) => 2 * i + 1);
    const c = await rawConnect(side.port('h2'));
    try {
      await c.write(Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0), ...ids.map((id) => getRequest(id, `/r${id}?size=10&delay=300`))]));
      await c.waitFor((d) => streamEnds(parseFrames(d)).size === ids.length, 5000);
      const ends = streamEnds(parseFrames(c.received));
      const answered = ids.filter((id) => ends.get(id) === 'end');
      const refused = ids.filter((id) => ends.get(id) === 7);
      assert.equal(answered.length + refused.length, ids.length, `every stream ends: ${JSON.stringify([...ends])}`);
      assert.ok(refused.length >= 1, `streams beyond the limit are refused: ${JSON.stringify([...ends])}`);
      assert.ok(answered.length >= 5, `the streams within the limit are answered: ${JSON.stringify([...ends])}`);
    } finally {
      c.resetAndDestroy();
    }
  });
});

const IDLE_TEMPLATE = `defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout http-request 3s
    timeout http-keep-alive 300ms
frontend h2
    bind 127.0.0.1:{{port:h2}} proto h2
    default_backend be
backend be
    server s1 127.0.0.1:{{origin}}
`;

describe('idle HTTP/2 connections', () => {
  const idle = lazySides(IDLE_TEMPLATE, () => ({ values: { origin: origin.port } }));
  after(() => idle.stop());

  sideTest('after a stream: closed with GOAWAY(NO_ERROR) once timeout http-keep-alive expires', idle, async (side) => {
    const c = await H2Client.connect(side.port('h2'));
    try {
      assertWhole(await c.request({ path: '/?size=1' }), 1, 'first stream');
      assert.equal(await c.waitClosed(2000), true, 'closed well before timeout http-request (3s)');
      assert.ok(c.goaways.length > 0 && c.goaways.every(([code]) => code === 0), JSON.stringify(c.goaways));
    } finally {
      c.destroy();
    }
  });

  sideTest('before any stream: timeout http-request applies, not http-keep-alive', idle, async (side) => {
    const c = await H2Client.connect(side.port('h2'));
    try {
      assert.equal(await c.waitClosed(1500), false, 'still open after 5 times the keep-alive timeout');
      assert.equal(await c.waitClosed(4000), true, 'closed once timeout http-request expired');
    } finally {
      c.destroy();
    }
  });
});

describe('graceful stop (SIGUSR1) with HTTP/2 streams in progress', () => {
  const kinds: Array<[string, (cfg: string, o: { waitPorts: number[] }) => Promise<ProcHandle>, string | false]> = [
    ['sluice', startSluice, false],
    ['haproxy 2.6', startHaproxy, haveHaproxy ? false : 'haproxy is not installed'],
  ];
  for (const [name, start, skip] of kinds) {
    test(`${name}: GOAWAY(NO_ERROR) is sent, the slow streams complete, the process exits`, { skip: skip || skipUnless('nghttp') }, async (t) => {
      const port = await freePort();
      const p = await start(
        `defaults\n    mode http\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n` +
          `frontend fe\n    bind 127.0.0.1:${port} proto h2\n    default_backend be\n` +
          `backend be\n    server s1 127.0.0.1:${origin.port}\n`,
        { waitPorts: [port] },
      );
      t.after(() => p.stop());
      const tag = `${name.replace(/\W/g, '')}${port}`;
      const c = await H2Client.connect(port);
      const idle = await H2Client.connect(port);
      t.after(() => {
        c.destroy();
        idle.destroy();
      });
      const slow = c.request({ path: `/slow-${tag}?delay=800&size=20000` });
      const ng = nghttp(['-v', '-n', `http://127.0.0.1:${port}/slow2-${tag}?delay=800&size=30000`]);
      await origin.waitFor((o) => o.requests.filter((r) => r.path.endsWith(tag)).length >= 2);
      p.signal('SIGUSR1');
      const [r, n] = await Promise.all([slow, ng]);
      assertWhole(r, 20000, 'the stream in progress');
      assert.ok(c.goaways.length > 0 && c.goaways.every(([code]) => code === 0), JSON.stringify(c.goaways));
      assert.equal(n.exitCode, 0, n.stdout + n.stderr);
      assert.match(n.stdout, /recv GOAWAY frame[^\n]*\n\s+\(last_stream_id=\d+, error_code=NO_ERROR\(0x00\)/);
      assert.match(n.stdout, /recv DATA frame <length=\d+, flags=0x01, stream_id=13>/);
      assert.equal(await idle.waitClosed(3000), true, 'an idle connection is closed');
      const exit = await p.waitExit(5000);
      assert.equal(exit.code, 0, p.describe());
    });
  }
});
