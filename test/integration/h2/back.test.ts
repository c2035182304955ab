// HTTP/2 to servers (`server ... proto h2`): how server connections are shared under `http-reuse`,
// `max-reuse` and the server's SETTINGS_MAX_CONCURRENT_STREAMS, and what clients see when the
// server misbehaves: GOAWAY, REFUSED_STREAM, RST_STREAM before or during a response, a connection
// that dies with streams in flight, a server that is not there. The servers are node:http2 servers
// (harness/h2-peers.ts) that count their connections ('session' events). Every scenario runs on
// sluice and on haproxy 2.6 with the same configuration, except where 2.6 is known to differ.
//
// haproxy 2.6 retries a refused stream only with `retry-on empty-response` (its default retry-on
// is conn-failure), while sluice retries refused streams without it (RFC 9113 8.7: such a request
// was not processed); so the reference runs get that line.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import {
  bodyPattern,
  curl,
  freePort,
  H2Client,
  h2load,
  h2Request,
  HttpClient,
  makeTempDir,
  nghttp,
  rawConnect,
  request,
  requireBinary,
  skipUnless,
  startHaproxy,
  startProcess,
  startSluice,
  type H2Response,
  type HttpResponse,
  type ProcHandle,
} from '../../harness/index.js';
import { respondThenReset, startH2Peer, type H2Peer, type H2PeerOptions, type H2PeerStream } from '../../harness/h2-peers.js';

type Kind = 'sluice' | 'haproxy';
const programs: Array<{ name: Kind; skip: string | false }> = [
  { name: 'sluice', skip: false },
  { name: 'haproxy', skip: skipUnless('haproxy') },
];

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = http2.constants;

// haproxy 2.6.12 ends the client's stream with END_STREAM when the server's stream is reset or
// dies mid-response without content-length: a cut response passed on as complete.
const HAPROXY_TRUNCATES = 'haproxy 2.6 sends END_STREAM for a response the server reset or dropped mid-body';

interface Setup {
  peer: H2Peer;
  port: number;
  proc: ProcHandle;
  /** Log lines of requests that reached the backend ("%ST %rc %b/%s %ts"). */
  logs(): string[];
}

interface SetupOptions {
  reuse?: string;
  /** More words on the server line. */
  server?: string;
  /** More lines in the backend. */
  backend?: string;
  peer?: H2PeerOptions;
  /** Use this server port instead of the peer's (nothing listening there). */
  serverPort?: number;
}

/** A fresh server and a fresh proxy in front of it; both stopped when the test ends. */
async function setup(t: TestContext, kind: Kind, o: SetupOptions = {}): Promise<Setup> {
  const peer = await startH2Peer(o.peer ?? {});
  t.after(() => peer.close());
  const port = await freePort();
  const start = kind === 'sluice' ? startSluice : startHaproxy;
  const proc = await start(
    `global
    nbthread 1
    log stdout format raw local0
defaults
    mode http
    log global
    log-format "%ST %rc %b/%s %ts"
    timeout connect 300ms
    timeout client 10s
    timeout server 10s
    http-reuse ${o.reuse ?? 'safe'}
${kind === 'haproxy' ? '    retry-on conn-failure empty-response\n' : ''}frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
${o.backend ?? ''}    server s1 127.0.0.1:${o.serverPort ?? peer.port} proto h2 ${o.server ?? ''}
`,
    { waitPorts: [port] },
  );
  t.after(() => proc.stop());
  // The start-up probe's connection must be gone before the counting starts.
  await new Promise((r) => setTimeout(r, 100));
  return {
    peer,
    port,
    proc,
    logs: () =>
      proc
        .lines()
        .map((l) => l.text)
        .filter((l) => / be\/s1 /.test(l)),
  };
}

/**
 * Takes over the streams whose query has `gate`: holds each until `n` are held (or 3 s passed),
 * then answers them all. Makes "concurrent" mean concurrent at the server, without sleeps.
 */
function gate(n: number): { opts: H2PeerOptions; reset(n: number): void } {
  let want = n;
  let held: H2PeerStream[] = [];
  let timer: NodeJS.Timeout | null = null;
  const release = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    for (const s of held.splice(0)) s.answer();
  };
  return {
    opts: {
      onStream: (s) => {
        if (!s.query.has('gate')) return false;
        held.push(s);
        if (held.length >= want) release();
        else timer ??= setTimeout(release, 3000);
        return true;
      },
    },
    reset: (m) => {
      want = m;
      held = [];
    },
  };
}

/**
 * The stream ended with END_STREAM. (`ended` alone is not enough: node:http2 emits 'end' on a
 * reset stream too, so a reset shows only in `rstCode`.)
 */
const clean = (r: H2Response): boolean => r.ended && r.rstCode === 0 && r.error === null;
const statuses = (rs: Array<{ status: number }>): number[] => rs.map((r) => r.status);
const streamsAt = (p: H2Peer): number => [...p.openStreams.values()].reduce((x, y) => x + y, 0);

/** Registers `fn` for each program; `todo` marks the sluice run only, `noHaproxy` skips the reference. */
function both(name: string, fn: (t: TestContext, kind: Kind) => Promise<void>, o: { todo?: string; noHaproxy?: string } = {}): void {
  for (const p of programs) {
    const skip = p.name === 'haproxy' ? (o.noHaproxy ?? p.skip) : p.skip;
    const todo = p.name === 'sluice' ? o.todo : undefined;
    test(`${p.name}: ${name}`, { timeout: 30000, ...(skip ? { skip } : {}), ...(todo ? { todo } : {}) }, (t) => fn(t, p.name));
  }
}

describe('connection sharing (http-reuse)', () => {
  // Client A sends three requests, then client B three, A still connected: `never` keeps one
  // connection per client, `safe` gives B's first request its own, `always` lets B use A's idle one.
  const seqExpect: Record<string, number> = { never: 2, safe: 2, always: 1 };
  for (const reuse of ['never', 'safe', 'always']) {
    both(
      `${reuse}: two clients one after the other use ${seqExpect[reuse]} server connection(s)`,
      async (t, kind) => {
        const s = await setup(t, kind, { reuse });
        const a = await HttpClient.connect(s.port);
        const b = await HttpClient.connect(s.port);
        t.after(() => Promise.all([a.close(), b.close()]));
        for (let i = 0; i < 3; i++) assert.equal((await a.request({ path: `/a${i}` })).status, 200);
        assert.equal(s.peer.sessionsTotal, 1, 'one client, one connection');
        for (let i = 0; i < 3; i++) assert.equal((await b.request({ path: `/b${i}` })).status, 200);
        assert.equal(s.peer.sessionsTotal, seqExpect[reuse]);
      },
    );
  }

  // Four clients, each request sent once the previous one reached the server and is held there:
  // first requests get their own connections under `never` and `safe`; under `always` they share.
  // A second round from the same clients opens nothing new.
  for (const reuse of ['never', 'safe', 'always']) {
    both(
      `${reuse}: four clients with requests in flight together`,
      async (t, kind) => {
        const g = gate(4);
        const s = await setup(t, kind, { reuse, peer: g.opts });
        const clients = await Promise.all([0, 1, 2, 3].map(() => HttpClient.connect(s.port)));
        t.after(() => Promise.all(clients.map((c) => c.close())));
        const round = async (): Promise<HttpResponse[]> => {
          const out: Array<Promise<HttpResponse>> = [];
          for (const [i, c] of clients.entries()) {
            out.push(c.request({ path: `/?gate=1&c=${i}` }));
            if (i < 3) await s.peer.waitFor((p) => streamsAt(p) === i + 1, `${i + 1} requests at the server`);
          }
          return Promise.all(out);
        };
        assert.deepEqual(statuses(await round()), [200, 200, 200, 200]);
        const first = s.peer.sessionsTotal;
        if (reuse === 'always') {
          assert.ok(first < 4, `always: clients share connections (${first} for 4 clients)`);
          assert.ok(s.peer.maxConcurrent >= 2, 'always: one connection carried streams of two clients at once');
        } else {
          assert.equal(first, 4, `${reuse}: each first request has its own connection`);
          assert.equal(s.peer.maxConcurrent, 1);
        }
        g.reset(4);
        assert.deepEqual(statuses(await round()), [200, 200, 200, 200]);
        assert.equal(s.peer.sessionsTotal, first, 'the second round opened no connection');
      },
    );
  }

  both('always: the concurrent streams of one HTTP/2 client share one connection', async (t, kind) => {
    const g = gate(10);
    const s = await setup(t, kind, { reuse: 'always', peer: g.opts });
    const c = await H2Client.connect(s.port);
    t.after(() => c.close());
    assert.equal((await c.request({ path: '/warm' })).status, 200);
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => c.request({ path: `/?gate=1&i=${i}` })));
    assert.deepEqual(statuses(rs), Array(10).fill(200));
    assert.ok(rs.every(clean));
    assert.equal(s.peer.sessionsTotal, 1);
    assert.equal(s.peer.maxConcurrent, 10);
  });

  both(
    'safe: the concurrent streams of one HTTP/2 client stay on its connection',
    async (t, kind) => {
      const g = gate(5);
      const s = await setup(t, kind, { reuse: 'safe', peer: g.opts });
      const c = await H2Client.connect(s.port);
      t.after(() => c.close());
      assert.equal((await c.request({ path: '/warm' })).status, 200);
      const rs = await Promise.all(Array.from({ length: 5 }, (_, i) => c.request({ path: `/?gate=1&i=${i}` })));
      assert.deepEqual(statuses(rs), Array(5).fill(200));
      assert.equal(s.peer.sessionsTotal, 1);
      assert.equal(s.peer.maxConcurrent, 5);
    },
    { noHaproxy: 'haproxy 2.6 opens one server connection per concurrent stream of a client under safe and never' },
  );

  both('max-reuse 2: a connection carries three requests, then a new one opens', async (t, kind) => {
    const s = await setup(t, kind, { server: 'max-reuse 2' });
    const c = await HttpClient.connect(s.port);
    t.after(() => c.close());
    const seen: number[] = [];
    for (let i = 0; i < 7; i++) {
      assert.equal((await c.request({ path: `/${i}` })).status, 200);
      seen.push(s.peer.sessionsTotal);
    }
    assert.deepEqual(seen, [1, 1, 1, 2, 2, 2, 3]);
  });

  // More streams than `retries` + 1: refusing each extra stream and retrying it cannot do.
  both(
    'SETTINGS_MAX_CONCURRENT_STREAMS 1: eight concurrent streams of one HTTP/2 client all succeed',
    async (t, kind) => {
      const s = await setup(t, kind, { reuse: 'safe', peer: { settings: { maxConcurrentStreams: 1 } } });
      const h2 = await H2Client.connect(s.port);
      t.after(() => h2.close());
      const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => h2.request({ path: `/?size=3000&cl=1&delay=50&i=${i}` })));
      assert.deepEqual(statuses(rs), Array(8).fill(200));
      assert.ok(rs.every((r) => clean(r) && r.body.length === 3000));
      assert.equal(s.peer.maxConcurrent, 1, 'never two streams at once on a connection');
    },
  );

  both(
    'SETTINGS_MAX_CONCURRENT_STREAMS 1 under always: concurrent requests of several clients all succeed',
    async (t, kind) => {
      const s = await setup(t, kind, { reuse: 'always', peer: { settings: { maxConcurrentStreams: 1 } } });
      const h2 = await H2Client.connect(s.port);
      t.after(() => h2.close());
      const fromH2 = Array.from({ length: 5 }, (_, i) => h2.request({ path: `/?size=3000&cl=1&delay=50&i=${i}` }));
      const fromH1 = Array.from({ length: 5 }, (_, i) => request(s.port, { path: `/?size=3000&delay=50&j=${i}` }));
      const h2rs = await Promise.all(fromH2);
      const h1rs = await Promise.all(fromH1);
      assert.deepEqual(statuses(h2rs), Array(5).fill(200));
      assert.ok(h2rs.every((r) => clean(r) && r.body.length === 3000));
      assert.deepEqual(statuses(h1rs), Array(5).fill(200));
      assert.ok(h1rs.every((r) => r.body.length === 3000));
      assert.equal(s.peer.maxConcurrent, 1, 'never two streams at once on a connection');
    },
    {
      noHaproxy: "haproxy 2.6 under always passes the server's REFUSED_STREAM on to the client for streams beyond the limit",
    },
  );
});

describe('servers that refuse or drop streams', () => {
  both('GOAWAY after the first stream: the streams beyond it go again on another connection', async (t, kind) => {
    let first: H2PeerStream | null = null;
    let seen = 0;
    let answered = false;
    const answerFirst = (): void => {
      if (answered) return;
      answered = true;
      // Answers stream 1 and says nothing after it was processed; the others get no answer.
      first!.answer();
      first!.stream.session?.goaway(NGHTTP2_NO_ERROR, first!.stream.id ?? 1);
    };
    const s = await setup(t, kind, {
      reuse: 'always',
      peer: {
        onStream: (ps) => {
          if (ps.session !== 1) return false;
          seen++;
          if (first === null) {
            first = ps;
            setTimeout(answerFirst, 1000);
          }
          if (seen === 5) answerFirst();
          return true;
        },
      },
    });
    const rs = await Promise.all(
      Array.from({ length: 5 }, (_, i) => request(s.port, { method: 'POST', path: `/?echo=1&i=${i}`, body: `body ${i}` })),
    );
    assert.deepEqual(statuses(rs), Array(5).fill(200));
    for (const [i, r] of rs.entries()) assert.equal(JSON.parse(r.text).bodyLength, `body ${i}`.length);
    assert.ok(s.peer.sessionsTotal >= 2, 'the refused streams went on a new connection');
  });

  both('REFUSED_STREAM twice: a POST still gets its answer, with two retries logged', async (t, kind) => {
    let refused = 0;
    const s = await setup(t, kind, {
      peer: {
        onStream: (ps) => {
          if (refused >= 2) return false;
          refused++;
          ps.stream.close(NGHTTP2_REFUSED_STREAM);
          return true;
        },
      },
    });
    const r = await request(s.port, { method: 'POST', path: '/?echo=1', body: 'hello' });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.text).bodyLength, 5);
    assert.equal(refused, 2);
    const line = await s.proc.waitForLine((l) => l.startsWith('200 '), 3000);
    assert.equal(line, '200 2 be/s1 --', 'two retries (%rc)');
  });

  for (const [label, code] of [
    ['INTERNAL_ERROR', NGHTTP2_INTERNAL_ERROR],
    ['NO_ERROR', NGHTTP2_NO_ERROR],
  ] as const) {
    both(
      `RST_STREAM ${label} before any response: 502 to the HTTP/1.1 client, 502 or a reset to the HTTP/2 client`,
      async (t, kind) => {
        const s = await setup(t, kind, {
          peer: {
            onStream: (ps) => {
              if (!ps.query.has('rst')) return false;
              void ps.body.then(() => ps.stream.close(code));
              return true;
            },
          },
        });
        const r = await request(s.port, { path: '/?rst=1', timeoutMs: 4000 }).catch((e: Error) => e);
        assert.ok(!(r instanceof Error) || /closed/.test(r.message), `answered or closed, not left waiting (${r instanceof Error ? r.message : r.status})`);
        if (!(r instanceof Error)) assert.equal(r.status, 502);
        const r2 = await h2Request(s.port, { path: '/?rst=1', timeoutMs: 4000 });
        assert.equal(r2.error?.startsWith('no end within') ?? false, false, 'answered, not left waiting');
        assert.ok(r2.status === 502 || r2.rstCode !== 0, `502 or a reset (status ${r2.status}, rst ${r2.rstCode})`);
        // The proxy goes on.
        assert.equal((await request(s.port, { path: '/?size=10' })).status, 200);
      },
    );
  }
});

/** A server that sends the head and `sent` bytes of a response, then resets the stream. */
function resetMidResponse(sent: number, withLength: boolean): H2PeerOptions {
  return {
    onStream: (ps) => {
      if (!ps.query.has('rst')) return false;
      void ps.body.then(() =>
        respondThenReset(ps.stream, { ':status': 200, ...(withLength ? { 'content-length': 100000 } : {}) }, Buffer.alloc(sent, 0x61), NGHTTP2_INTERNAL_ERROR),
      );
      return true;
    },
  };
}

describe('a server that resets a stream in the middle of its response', () => {
  for (const withLength of [true, false]) {
    both(`HTTP/1.1 client, ${withLength ? 'content-length' : 'no length (chunked)'}: the connection closes before the end`, async (t, kind) => {
      const s = await setup(t, kind, { peer: resetMidResponse(20000, withLength) });
      const c = await rawConnect(s.port);
      t.after(() => c.destroy());
      await c.write('GET /?rst=1 HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.waitFor(() => false, 5000);
      assert.ok(c.ended || c.closed, 'the client connection was closed');
      const text = c.text();
      assert.match(text, /^HTTP\/1\.1 200/);
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      if (withLength) assert.ok(body.length < 100000, 'fewer bytes than announced');
      else assert.ok(!body.endsWith('\r\n0\r\n\r\n'), 'no last chunk: the client knows the body is cut');
      // The proxy goes on.
      assert.equal((await request(s.port, { path: '/?size=10' })).status, 200);
    });
  }

  both(
    'HTTP/2 client: the stream is reset, the connection goes on',
    async (t, kind) => {
      const s = await setup(t, kind, { peer: resetMidResponse(20000, false) });
      const c = await H2Client.connect(s.port);
      t.after(() => c.close());
      const r = await c.request({ path: '/?rst=1', timeoutMs: 4000 });
      assert.equal(r.status, 200);
      assert.notEqual(r.rstCode, 0, 'RST_STREAM, not END_STREAM');
      assert.equal(r.body.length, 20000);
      const again = await c.request({ path: '/?size=10' });
      assert.equal(again.status, 200);
      assert.ok(clean(again));
    },
    { noHaproxy: HAPROXY_TRUNCATES },
  );
});

describe('a server connection that dies with streams in flight', () => {
  both(
    'every waiting client gets an answer or a reset, and the proxy goes on',
    async (t, kind) => {
      let partial = 0;
      const s = await setup(t, kind, {
        reuse: 'always',
        peer: {
          onStream: (ps) => {
            if (ps.query.has('hold')) return true;
            if (!ps.query.has('partial')) return false;
            void ps.body.then(() => {
              ps.stream.respond({ ':status': 200, 'content-length': 100000 });
              ps.stream.write(Buffer.alloc(5000, 0x62), () => partial++);
            });
            return true;
          },
        },
      });
      const h1 = await Promise.all([0, 1, 2].map(() => HttpClient.connect(s.port)));
      const h2 = await H2Client.connect(s.port);
      const mid = await HttpClient.connect(s.port);
      t.after(() => Promise.all([...h1.map((c) => c.close()), mid.close(), h2.close()]));
      const settle = <T>(p: Promise<T>): Promise<T | Error> => p.catch((e: Error) => e);
      const h1Answers = h1.map((c, i) => settle(c.request({ path: `/?hold=1&c=${i}`, timeoutMs: 4000 })));
      const h2Answers = [0, 1].map((i) => h2.request({ path: `/?hold=1&s=${i}`, timeoutMs: 4000 }));
      const midAnswer = settle(mid.request({ path: '/?partial=1', timeoutMs: 4000 }));
      await s.peer.waitFor((p) => streamsAt(p) === 6 && partial === 1, 'six streams at the server');
      // The server process dies: its connections drop without a frame and nothing listens any
      // more (a retry finds the port closed).
      const serverPort = s.peer.port;
      await s.peer.die();

      for (const a of await Promise.all(h1Answers)) {
        if (a instanceof Error) assert.match(a.message, /closed/, 'closed, not left waiting');
        else assert.ok(a.status === 502 || a.status === 503, `502 or 503, got ${a.status}`);
      }
      for (const a of await Promise.all(h2Answers)) {
        assert.equal(a.error?.startsWith('no end within') ?? false, false, 'answered, not left waiting');
        assert.ok(a.status === 502 || a.status === 503 || a.rstCode !== 0, `502, 503 or a reset (status ${a.status}, rst ${a.rstCode})`);
      }
      const m = await midAnswer;
      assert.ok(m instanceof Error && /closed|truncated/.test(m.message), `the response in progress is cut, not completed (${String(m)})`);
      assert.equal(s.proc.exited, null, 'the proxy is still running');

      // The server comes back on the same port: new requests are served.
      const back = await startH2Peer({ port: serverPort });
      t.after(() => back.close());
      assert.equal((await request(s.port, { path: '/?size=10' })).status, 200);
      assert.equal((await h2Request(s.port, { path: '/?size=10' })).status, 200);
    },
  );

  for (const cv of ['h1', 'h2'] as const) {
    both(
      `dying mid-response, no content-length: the ${cv === 'h1' ? 'HTTP/1.1' : 'HTTP/2'} client never sees a complete response`,
      async (t, kind) => {
        let sent = false;
        const s = await setup(t, kind, {
          peer: {
            onStream: (ps) => {
              if (!ps.query.has('partial')) return false;
              void ps.body.then(() => {
                ps.stream.respond({ ':status': 200 });
                ps.stream.write(Buffer.alloc(5000, 0x62), () => (sent = true));
              });
              return true;
            },
          },
        });
        if (cv === 'h1') {
          const c = await rawConnect(s.port);
          t.after(() => c.destroy());
          await c.write('GET /?partial=1 HTTP/1.1\r\nHost: x\r\n\r\n');
          await s.peer.waitFor(() => sent, 'the first bytes sent');
          await c.waitFor((d) => d.length > 5000, 3000);
          await s.peer.die();
          await c.waitFor(() => false, 4000);
          assert.ok(c.ended || c.closed, 'the client connection is closed');
          assert.match(c.text(), /^HTTP\/1\.1 200/);
          assert.ok(!c.text().endsWith('\r\n0\r\n\r\n'), 'no last chunk: the body is known to be cut');
        } else {
          const c = await H2Client.connect(s.port);
          t.after(() => c.close());
          let got = 0;
          const answer = c.request({ path: '/?partial=1', timeoutMs: 4000, onStream: (st) => st.on('data', (d: Buffer) => (got += d.length)) });
          await s.peer.waitFor(() => sent && got >= 5000, 'the first bytes at the client');
          await s.peer.die();
          const r = await answer;
          assert.equal(r.status, 200);
          assert.notEqual(r.rstCode, 0, 'RST_STREAM, not END_STREAM, for a cut response');
        }
      },
      { ...(cv === 'h2' ? { noHaproxy: HAPROXY_TRUNCATES } : {}) },
    );
  }

  both('a server that is not there: 503 after the retries', async (t, kind) => {
    const closed = await freePort();
    const s = await setup(t, kind, { serverPort: closed, backend: '    retries 2\n' });
    const r = await request(s.port, { path: '/' });
    assert.equal(r.status, 503);
    const c = await H2Client.connect(s.port);
    t.after(() => c.close());
    const r2 = await c.request({ path: '/' });
    assert.equal(r2.status, 503);
    assert.ok(clean(r2));
    await s.proc.waitForLine((l) => l.startsWith('503 '), 3000);
    assert.equal(s.logs()[0], '503 2 be/s1 SC', 'two retries, then a connection error');
  });
});

describe('a real HTTP/2 server: nghttpd --no-tls', () => {
  const tools = skipUnless('nghttpd', 'curl', 'nghttp', 'h2load');
  const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
  const file = bodyPattern(1024 * 1024);

  /** nghttpd serving `file` as /big and echoing uploads, and a proxy in front of it. */
  async function withNghttpd(t: TestContext, kind: Kind): Promise<{ port: number; dir: string }> {
    const dir = makeTempDir('sluice-nghttpd-');
    fs.writeFileSync(path.join(dir, 'big'), file);
    const nport = await freePort();
    const nghttpd = await startProcess(
      'nghttpd',
      [requireBinary('nghttpd'), '--no-tls', '-a', '127.0.0.1', '-d', dir, '--echo-upload', String(nport)],
      { waitPorts: [nport], dir },
    );
    t.after(() => nghttpd.stop());
    const s = await setup(t, kind, { reuse: 'always', serverPort: nport });
    return { port: s.port, dir };
  }

  for (const p of programs) {
    test(`${p.name}: a 1 MB file to curl (HTTP/1.1) and nghttp (HTTP/2), an upload echoed, h2load through a shared connection`, { skip: p.skip || tools, timeout: 30000 }, async (t) => {
      const { port, dir } = await withNghttpd(t, p.name);
      const url = `http://127.0.0.1:${port}/big`;

      const c1 = await curl(['--http1.1', url]);
      assert.equal(c1.status, 200, c1.stderr);
      assert.equal(c1.httpVersion, '1.1');
      assert.equal(sha(c1.body), sha(file), 'the file to an HTTP/1.1 client');

      const c2 = await nghttp([url]);
      assert.equal(c2.exitCode, 0, c2.stderr);
      // The file is ASCII: stdout as text is the body.
      assert.equal(sha(c2.stdout), sha(file), 'the file to an HTTP/2 client');

      // A chunked upload of 300 KB, echoed back by the server.
      const up = bodyPattern(300 * 1024);
      fs.writeFileSync(path.join(dir, 'up'), up);
      const c3 = await curl(['--http1.1', '-H', 'Transfer-Encoding: chunked', '--data-binary', `@${path.join(dir, 'up')}`, `http://127.0.0.1:${port}/echo`]);
      assert.equal(c3.status, 200, c3.stderr);
      assert.equal(sha(c3.body), sha(up), 'the upload came back whole');
      const c4 = await curl(['--http2-prior-knowledge', '--data-binary', `@${path.join(dir, 'up')}`, `http://127.0.0.1:${port}/echo`]);
      assert.equal(c4.status, 200, c4.stderr);
      assert.equal(c4.httpVersion, '2');
      assert.equal(sha(c4.body), sha(up), 'the upload came back whole (HTTP/2 client)');

      const load = await h2load(['-n', '200', '-c', '4', '-m', '10', `http://127.0.0.1:${port}/big`]);
      assert.equal(load.succeeded, 200, load.stdout + load.stderr);
      assert.equal(load.status['2xx'], 200);
    });
  }
});
