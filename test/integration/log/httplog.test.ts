// `log stdout format raw` with `option httplog` and with a custom `log-format`: the line for a
// normal request, field by field, and the same line from haproxy 2.6 for the same config and
// exchange (fields that depend on the run, like ports, dates, timers and byte counts, masked).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  HttpClient,
  freePorts,
  skipUnless,
  startHaproxy,
  startOrigin,
  startSluice,
  type Origin,
  type ProcHandle,
} from '../../harness/index.js';
import { HTTPLOG, fields, lineFor, parseLogDate } from './lines.js';

const haveHaproxy = skipUnless('haproxy') === false;

function config(ports: number[], origin: number): string {
  return `global
    log stdout format raw local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${ports[0]}
    option httplog
    default_backend be
frontend custom
    bind 127.0.0.1:${ports[1]}
    log-format "%ci:%cp [%tr] %ft %b/%s %ST %tsc %HM %HP %HU %HV %{+Q}r %{+Q}HU %ac/%fc/%bc/%sc/%rc %sq/%bq %fi:%fp %si:%sp"
    default_backend be
frontend empty
    bind 127.0.0.1:${ports[2]}
    log-format "%ci:%cp [%HQ] %HP %HQ %HU end"
    default_backend be
backend be
    server s1 127.0.0.1:${origin}
`;
}

interface Peer {
  p: ProcHandle;
  ports: number[];
}

let origin: Origin;
let sluice: Peer;
let haproxy: Peer | null = null;

before(async () => {
  origin = await startOrigin('o1');
  const sp = await freePorts(3);
  sluice = { p: await startSluice(config(sp, origin.port), { waitPorts: sp }), ports: sp };
  if (haveHaproxy) {
    const hp = await freePorts(3);
    haproxy = { p: await startHaproxy(config(hp, origin.port), { waitPorts: hp }), ports: hp };
  }
});

after(async () => {
  await sluice?.p.stop();
  await haproxy?.p.stop();
  await origin?.close();
});

/** Sends the requests on one connection; returns the client's source port and the bytes received. */
async function exchange(port: number, reqs: Array<Parameters<HttpClient['request']>[0]>): Promise<{ cp: number; bytes: number[] }> {
  const c = await HttpClient.connect(port);
  const cp = c.socket.localPort!;
  const bytes: number[] = [];
  let before = 0;
  try {
    for (const r of reqs) {
      const res = await c.request(r);
      assert.ok(res.status > 0);
      // Wire bytes of this response: everything read on the socket since the previous one.
      const total = c.socket.bytesRead;
      bytes.push(total - before);
      before = total;
    }
  } finally {
    await c.close();
  }
  return { cp, bytes };
}

/** A line with the fields that vary between runs and programs masked. */
function masked(line: string, cp: number, feport: number): string {
  return line
    .replaceAll(`:${cp}`, ':CP')
    .replaceAll(`:${feport}`, ':FP')
    .replace(/\[\d{2}\/\w{3}\/\d{4}:[\d:.]+\]/g, '[DATE]')
    .replace(/ (-1|\d+)\/(-1|\d+)\/(-1|\d+)\/(-1|\d+)\/\+?(-1|\d+) (\d{3}) \d+ /, ' T/T/T/T/T $6 B ');
}

describe('option httplog', () => {
  test('a normal request: every field of the line in HAProxy\'s layout', async () => {
    const at = Date.now();
    const mark = sluice.p.mark();
    const { cp, bytes } = await exchange(sluice.ports[0]!, [{ path: '/page?size=321&delay=100' }]);
    const f = fields(HTTPLOG, await lineFor(sluice.p, cp, 3000, mark));
    assert.equal(f.ci, '127.0.0.1');
    assert.equal(f.cp, String(cp));
    const date = parseLogDate(f.date!);
    assert.ok(date >= at - 1000 && date <= Date.now() + 1000, `date ${f.date} is not now`);
    assert.equal(f.ft, 'fe');
    assert.equal(`${f.b}/${f.s}`, 'be/s1');
    const [TR, Tw, Tc, Tr, Ta] = [f.TR, f.Tw, f.Tc, f.Tr, f.Ta].map(Number) as [number, number, number, number, number];
    for (const t of [TR, Tw, Tc, Tr, Ta]) assert.ok(t >= 0, `every timer reached: ${f.TR}/${f.Tw}/${f.Tc}/${f.Tr}/${f.Ta}`);
    assert.ok(Tr >= 90, `Tr covers the server's 100 ms delay: ${Tr}`);
    assert.ok(Ta >= TR + Tw + Tc + Tr, `Ta is the sum and more: ${f.TR}/${f.Tw}/${f.Tc}/${f.Tr}/${f.Ta}`);
    assert.equal(f.ST, '200');
    assert.equal(Number(f.B), bytes[0], 'bytes sent to the client');
    assert.equal(f.CC, '-');
    assert.equal(f.CS, '-');
    assert.equal(f.tsc, '----');
    assert.equal(`${f.ac}/${f.fc}/${f.bc}/${f.sc}/${f.rc}`, '1/1/0/0/0');
    assert.equal(`${f.sq}/${f.bq}`, '0/0');
    assert.equal(f.r, 'GET /page?size=321&delay=100 HTTP/1.1');
  });

  test('keep-alive: one line per request, the method and version as sent', async () => {
    const mark = sluice.p.mark();
    const { cp } = await exchange(sluice.ports[0]!, [
      { path: '/one', method: 'POST', body: 'abc' },
      { path: '/two', version: 'HTTP/1.0', headers: { Connection: 'keep-alive' } },
    ]);
    await sluice.p.waitForLine((l) => l.startsWith(`127.0.0.1:${cp} `) && l.includes('/two'), 3000, mark);
    const lines = sluice.p.lines().slice(mark).map((l) => l.text).filter((l) => l.startsWith(`127.0.0.1:${cp} `));
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.equal(fields(HTTPLOG, lines[0]!).r, 'POST /one HTTP/1.1');
    assert.equal(fields(HTTPLOG, lines[1]!).r, 'GET /two HTTP/1.0');
    assert.equal(fields(HTTPLOG, lines[1]!).tsc, '----');
  });

  test('the same line as haproxy for the same exchange', { skip: !haveHaproxy && 'haproxy missing' }, async () => {
    const path = '/same?size=10&x=%22q%22';
    const get = async (peer: Peer): Promise<string> => {
      const mark = peer.p.mark();
      const { cp } = await exchange(peer.ports[0]!, [{ path }]);
      return masked(await lineFor(peer.p, cp, 3000, mark), cp, peer.ports[0]!);
    };
    assert.equal(await get(sluice), await get(haproxy!));
  });
});

describe('log-format', () => {
  test('a custom format: each tag as haproxy prints it', { skip: !haveHaproxy && 'haproxy missing' }, async () => {
    const get = async (peer: Peer): Promise<string> => {
      const mark = peer.p.mark();
      const { cp } = await exchange(peer.ports[1]!, [{ path: '/a/b?x=1&y=%20z', method: 'POST', body: 'hello' }]);
      return masked(await lineFor(peer.p, cp, 3000, mark), cp, peer.ports[1]!);
    };
    const s = await get(sluice);
    assert.equal(
      s,
      `127.0.0.1:CP [DATE] custom be/s1 200 ---- POST /a/b /a/b?x=1&y=%20z HTTP/1.1 "POST /a/b?x=1&y=%20z HTTP/1.1" "/a/b?x=1&y=%20z" 1/1/0/0/0 0/0 127.0.0.1:FP 127.0.0.1:${origin.port}`,
    );
    assert.equal(s, await get(haproxy!));
  });

  test('an empty field still has its separators and its place', { skip: !haveHaproxy && 'haproxy missing' }, async () => {
    const get = async (peer: Peer): Promise<string> => {
      const mark = peer.p.mark();
      const { cp } = await exchange(peer.ports[2]!, [{ path: '/noquery' }]);
      return masked(await lineFor(peer.p, cp, 3000, mark), cp, peer.ports[2]!);
    };
    const h = await get(haproxy!);
    assert.equal(h, '127.0.0.1:CP [] /noquery  /noquery end');
    assert.equal(await get(sluice), h);
  });
});
