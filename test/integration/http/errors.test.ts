// Error answers through sluice, byte for byte: 400 on malformed and smuggling-shaped requests,
// 408 on a partial head, 502 on a bad or vanishing server, 503 when no server can be reached or
// none exists, 504 on timeout server. Each one is also sent to haproxy 2.6 running the same
// configuration, and the two answers must be identical.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  freePorts,
  rawConnect,
  rawRequest,
  startHaproxy,
  startOrigin,
  startRawServer,
  startSluice,
  untilResponses,
  which,
  type Origin,
  type ProcHandle,
  type RawResult,
  type RawServer,
} from '../../harness/index.js';
import { deadAddr } from './util.js';

const PAGE_400 =
  'HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\n' +
  'Content-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n';
const PAGE_408 =
  'HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\n' +
  "Content-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";
const PAGE_502 =
  'HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n' +
  '<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n';
const PAGE_503 =
  'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n' +
  '<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n';
const PAGE_504 =
  'HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n' +
  "<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n";

/** Frontends of the shared configuration, by purpose. */
const enum Fe {
  /** Routes to the query-driven origin. */
  Ok = 0,
  /** Routes to a server on which nothing listens. */
  Dead = 1,
  /** Routes to a backend without any server. */
  Empty = 2,
  /** Routes to a server that closes each connection once it has read a request head. */
  Closer = 3,
}

function config(ports: number[], origin: number, dead: string, closer: number): string {
  const fe = (i: number, be: string): string =>
    `frontend fe_${be}\n    bind 127.0.0.1:${ports[i]}\n    default_backend be_${be}\n`;
  return (
    'defaults\n    mode http\n    timeout connect 500ms\n    timeout client 5s\n    timeout server 400ms\n' +
    '    timeout http-request 300ms\n    timeout http-keep-alive 5s\n    retries 2\n' +
    fe(Fe.Ok, 'ok') + `backend be_ok\n    server s1 127.0.0.1:${origin}\n` +
    fe(Fe.Dead, 'dead') + `backend be_dead\n    server s1 ${dead}\n` +
    fe(Fe.Empty, 'empty') + 'backend be_empty\n' +
    fe(Fe.Closer, 'closer') + `backend be_closer\n    server s1 127.0.0.1:${closer}\n`
  );
}

interface Proxy {
  proc: ProcHandle;
  ports: number[];
}

let origin: Origin;
let closer: RawServer;
let sluice: Proxy;
let haproxy: Proxy | null = null;

before(async () => {
  origin = await startOrigin('o1');
  closer = await startRawServer(async (c) => {
    await c.waitFor((d) => d.includes('\r\n\r\n'));
    c.end();
  });
  const dead = await deadAddr();
  const sp = await freePorts(4);
  sluice = { proc: await startSluice(config(sp, origin.port, dead, closer.port), { waitPorts: sp }), ports: sp };
  if (which('haproxy')) {
    const hp = await freePorts(4);
    haproxy = { proc: await startHaproxy(config(hp, origin.port, dead, closer.port), { waitPorts: hp }), ports: hp };
  }
});

after(async () => {
  await sluice?.proc.stop();
  await haproxy?.proc.stop();
  await origin?.close();
  await closer?.close();
});

/** Sends `bytes` on a fresh connection to frontend `fe` and collects the first response. */
function send(p: Proxy, fe: Fe, bytes: string | string[], pauseMs?: number): Promise<RawResult> {
  return rawRequest(p.ports[fe]!, bytes, { until: untilResponses(1), timeoutMs: 4000, pauseMs });
}

/**
 * Checks that sluice answers `bytes` with exactly `page` (and closes when `closes`), and that
 * haproxy, when installed, answers with the very same bytes.
 */
async function expectPage(fe: Fe, bytes: string | string[], page: string, closes: boolean): Promise<void> {
  // A page that closes the connection is read to the close; the others are followed by nothing.
  const r = closes
    ? await rawRequest(sluice.ports[fe]!, bytes, { until: () => false, timeoutMs: 4000 })
    : await send(sluice, fe, bytes);
  assert.equal(r.text.slice(0, page.length), page, 'sluice must answer with the HAProxy page');
  assert.equal(r.text.length, page.length, `nothing after the page: ${JSON.stringify(r.text.slice(page.length))}`);
  if (closes) assert.equal(r.closed, true, 'the connection is closed after the page');
  if (haproxy) {
    const h = await send(haproxy, fe, bytes);
    assert.equal(r.text, h.text, 'sluice and haproxy 2.6 answer with the same bytes');
  }
}

describe('400 Bad request', () => {
  test('bytes that are not HTTP', () => expectPage(Fe.Ok, 'garbage\r\n\r\n', PAGE_400, true));
  test('a request line with an extra word', () =>
    expectPage(Fe.Ok, 'GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n', PAGE_400, true));
  test('two different Content-Length fields (smuggling)', () =>
    expectPage(Fe.Ok, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', PAGE_400, true));
  test('a Content-Length list with different values', () =>
    expectPage(Fe.Ok, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\nab', PAGE_400, true));
  test('a negative or non-numeric Content-Length', async () => {
    await expectPage(Fe.Ok, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', PAGE_400, true);
    await expectPage(Fe.Ok, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1a\r\n\r\n', PAGE_400, true);
  });
  test('whitespace between a field name and the colon', async () => {
    await expectPage(Fe.Ok, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\n', PAGE_400, true);
    await expectPage(Fe.Ok, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n', PAGE_400, true);
  });
  test('a Transfer-Encoding whose last coding is not chunked', async () => {
    await expectPage(Fe.Ok, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', PAGE_400, true);
    await expectPage(Fe.Ok, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', PAGE_400, true);
    await expectPage(
      Fe.Ok,
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n',
      PAGE_400,
      true,
    );
    await expectPage(Fe.Ok, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n', PAGE_400, true);
  });
  test(
    'chunked applied twice (Transfer-Encoding: chunked, chunked)',
    () => expectPage(Fe.Ok, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n', PAGE_400, true),
  );
  test('two Host fields', () => expectPage(Fe.Ok, 'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n', PAGE_400, true));
  test('an invalid chunk size in the body', () =>
    expectPage(Fe.Ok, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', PAGE_400, true));
  test('Transfer-Encoding and Content-Length together: chunked wins, CL is dropped, the connection closes', async () => {
    const bytes =
      'POST /?echo=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    const r = await rawRequest(sluice.ports[Fe.Ok]!, bytes, { until: () => false, timeoutMs: 4000 });
    assert.equal(r.responses[0]?.status, 200);
    const echo = JSON.parse(r.responses[0]!.body.toString()) as { headers: [string, string][]; bodyLength: number };
    assert.equal(echo.headers.some(([n]) => n.toLowerCase() === 'content-length'), false);
    assert.equal(echo.bodyLength, 3);
    assert.equal(r.closed, true, 'a request with both framings closes the connection');
  });
});

describe('408 Request Time-out', () => {
  test('a partial request head when timeout http-request expires', () =>
    expectPage(Fe.Ok, 'GET / HTTP/1.1\r\nHost: x\r\n', PAGE_408, true));
  test('a head sent slowly in parts is timed as a whole: each part does not restart the timer', async () => {
    const c = await rawConnect(sluice.ports[Fe.Ok]!);
    try {
      await c.write('GET / HTTP/1.1\r\n');
      // One header line every 100 ms for up to 1.5 s: the 408 must come at about 300 ms, long
      // before the parts run out.
      let parts = 0;
      while (parts < 15 && c.received.length === 0 && !c.ended) {
        await c.waitFor((d) => d.length > 0, 100);
        await c.write(`X-Part-${parts++}: 1\r\n`);
      }
      await c.waitFor(() => false, 2000);
      assert.equal(c.text(), PAGE_408);
      assert.ok(parts < 15, 'timeout http-request must not be refreshed by each part of the head');
    } finally {
      c.destroy();
    }
  });
});

describe('502 Bad Gateway', () => {
  test('the server answers with bytes that are not HTTP', () =>
    expectPage(Fe.Ok, 'GET /?garbage=1 HTTP/1.1\r\nHost: x\r\n\r\n', PAGE_502, false));
  test('the server closes after reading the request, before answering', () =>
    expectPage(Fe.Closer, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', PAGE_502, false));
  test('the server resets the connection instead of answering', () =>
    expectPage(Fe.Ok, 'GET /?reset=1 HTTP/1.1\r\nHost: x\r\n\r\n', PAGE_502, false));
});

describe('503 Service Unavailable', () => {
  test('every server refuses connections, after the retries', () =>
    expectPage(Fe.Dead, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', PAGE_503, false));
  test('the backend has no server', () => expectPage(Fe.Empty, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', PAGE_503, false));
});

describe('504 Gateway Time-out', () => {
  test('the server does not answer within timeout server', () =>
    expectPage(Fe.Ok, 'GET /?hang=1 HTTP/1.1\r\nHost: x\r\n\r\n', PAGE_504, false));
});

describe('after a 502, 503 or 504 the client connection stays usable', () => {
  for (const [name, fe, path, page] of [
    ['502', Fe.Ok, '/?garbage=1', PAGE_502],
    ['503 (no server in the backend)', Fe.Empty, '/', PAGE_503],
    ['503 (connection refused)', Fe.Dead, '/', PAGE_503],
    ['504', Fe.Ok, '/?hang=1', PAGE_504],
  ] as const) {
    test(name, async () => {
      const c = await rawConnect(sluice.ports[fe]!);
      try {
        await c.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
        await c.waitFor(untilResponses(1));
        assert.equal(c.text(), page);
        assert.equal(c.ended, false);
        await c.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
        await c.waitFor(untilResponses(2));
        assert.equal(c.text(), page + page, 'a second request on the same connection is answered');
      } finally {
        c.destroy();
      }
    });
  }
});

test(
  'an error page answering a HEAD request carries the head only, as HAProxy does',
  async () => {
    const head = PAGE_503.slice(0, PAGE_503.indexOf('\r\n\r\n') + 4);
    const r = await rawRequest(sluice.ports[Fe.Empty]!, 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n', {
      until: () => false,
      timeoutMs: 300,
      methods: ['HEAD'],
    });
    assert.equal(r.text, head);
    if (haproxy) {
      const h = await rawRequest(haproxy.ports[Fe.Empty]!, 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n', {
        until: () => false,
        timeoutMs: 300,
        methods: ['HEAD'],
      });
      assert.equal(h.text, head);
    }
  },
);
