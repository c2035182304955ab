// `http-check expect` on sluice and haproxy 2.6 with one configuration: each backend checks one
// server with one expect variant, and the test reads what `option log-health-checks` logs about
// it (result, reason, code, info), the "is DOWN" and "no server available" lines that follow a
// failure, and for a few what traffic sees (503 when the backend has no server up). Servers are
// shared by both proxies and stateless: the query-driven origin (status, size, chunked, hdr...)
// and a scripted server for answers it cannot give (a body after a pause, a close or a reset
// instead of an answer, garbage, a 1xx first, a slow answer).
//
// A server with `check` starts UP with health = rise (2 here): the first failure takes it DOWN
// ("status: 0/2 DOWN"), the first success to full health ("status: 3/3 UP").
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { freePort, request, startOrigin, type Origin } from '../../harness/index.js';
import { checkDuration, httpResponse, pause, startScriptedHttp, waitHealthLines, healthLines, type ScriptedHttp } from '../../harness/checks.js';
import { lazySides, sideTest, type Side } from '../../harness/sides.js';

interface ExpectCase {
  name: string;
  /** Backend name (unique). */
  be: string;
  /** The backend's check lines. */
  lines: string;
  /** `origin` (default) or `script`. */
  server?: 'origin' | 'script';
  /** More keywords on the server line. */
  srv?: string;
  /** The health lines about the backend, in order, durations masked. */
  expect: string[];
  /** The first line reports a check duration at least this long (a timeout). */
  minDuration?: number;
  todo?: string;
  /** What sluice logs where it differs from haproxy on purpose (docs/configuration.md). */
  sluiceExpect?: string[];
}

const OK = (be: string, code = 200, info = ''): string =>
  `Health check for server ${be}/s1 succeeded, reason: Layer7 check passed, code: ${code}, ${info ? `info: "${info}", ` : ''}check duration: Nms, status: 3/3 UP.`;
const DOWN = (be: string): string[] => [
  `Server ${be}/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`,
  `backend ${be} has no server available!`,
];
/** A failed check (reason with its code and info as haproxy prints them), then DOWN. */
const FAIL = (be: string, reason: string): string[] => [
  `Health check for server ${be}/s1 failed, reason: ${reason}, check duration: Nms, status: 0/2 DOWN.`,
  ...DOWN(be),
];

const CASES: ExpectCase[] = [
  // ---- status ----
  { name: 'status list: one of the codes passes', be: 'st_list', lines: 'option httpchk GET /?status=201\nhttp-check expect status 200,201', expect: [OK('st_list', 201)] },
  { name: 'status range: a code inside passes', be: 'st_range', lines: 'option httpchk GET /?status=302\nhttp-check expect status 300-310', expect: [OK('st_range', 302)] },
  {
    name: 'status list of ranges: a code outside fails with L7STS, its code and reason',
    be: 'st_miss',
    lines: 'option httpchk GET /?status=404\nhttp-check expect status 200-299,304',
    expect: FAIL('st_miss', 'Layer7 wrong status, code: 404, info: "Not Found"'),
  },
  {
    name: '! status: the code given fails',
    be: 'st_not',
    lines: 'option httpchk GET /?status=500\nhttp-check expect ! status 500',
    expect: FAIL('st_not', 'Layer7 wrong status, code: 500, info: "Internal Server Error"'),
  },
  { name: '! status: another code passes, even a 5xx', be: 'st_notok', lines: 'option httpchk GET /?status=503\nhttp-check expect ! status 500', expect: [OK('st_notok', 503)] },
  { name: 'rstatus: a matching code passes', be: 'rst_ok', lines: 'option httpchk GET /?status=204\nhttp-check expect rstatus ^2[0-9][0-9]$', expect: [OK('rst_ok', 204)] },
  { name: 'rstatus: no match fails with L7STS', be: 'rst_miss', lines: 'option httpchk GET /\nhttp-check expect rstatus ^3', expect: FAIL('rst_miss', 'Layer7 wrong status, code: 200, info: "OK"') },
  { name: 'no expect rule: 2xx and 3xx pass', be: 'implicit_3xx', lines: 'option httpchk GET /?status=301', expect: [OK('implicit_3xx', 301)] },
  {
    name: 'no expect rule: a 4xx fails',
    be: 'implicit_4xx',
    lines: 'option httpchk GET /?status=403',
    expect: FAIL('implicit_4xx', 'Layer7 wrong status, code: 403, info: "Forbidden"'),
  },
  {
    name: 'the reason phrase of the server is the info',
    be: 'st_reason',
    server: 'script',
    lines: 'option httpchk GET /reason',
    expect: FAIL('st_reason', 'Layer7 wrong status, code: 503, info: "Going Away Soon"'),
  },

  // ---- body: string, rstring, ! string ----
  { name: 'string found in the body', be: 'str_ok', lines: 'option httpchk GET /?size=64\nhttp-check expect string abcdef', expect: [OK('str_ok')] },
  {
    name: 'string not in the body: L7RSP',
    be: 'str_miss',
    lines: 'option httpchk GET /?size=64\nhttp-check expect string zzz',
    expect: FAIL('str_miss', 'Layer7 invalid response, info: "HTTP content check did not match"'),
  },
  {
    name: 'string against an empty body',
    be: 'str_empty',
    lines: 'option httpchk GET /?size=0\nhttp-check expect string abc',
    expect: FAIL('str_empty', 'Layer7 invalid response, info: "HTTP content check could not find a response body"'),
  },
  { name: 'rstring matching the body', be: 'rstr_ok', lines: 'option httpchk GET /?size=64\nhttp-check expect rstring ^0123.*XYZ', expect: [OK('rstr_ok')] },
  {
    name: 'rstring not matching',
    be: 'rstr_miss',
    lines: 'option httpchk GET /?size=64\nhttp-check expect rstring ^abc',
    expect: FAIL('rstr_miss', 'Layer7 invalid response, info: "HTTP content check did not match"'),
  },
  {
    name: '! string present: L7RSP, matched unwanted content',
    be: 'nstr_hit',
    lines: 'option httpchk GET /?size=64\nhttp-check expect ! string abc',
    expect: FAIL('nstr_hit', 'Layer7 invalid response, info: "HTTP check matched unwanted content"'),
  },
  { name: '! string absent passes', be: 'nstr_ok', lines: 'option httpchk GET /?size=64\nhttp-check expect ! string zzz', expect: [OK('nstr_ok')] },
  {
    name: 'a status rule then a string rule: both must pass',
    be: 'two_rules',
    lines: 'option httpchk GET /?size=64\nhttp-check expect status 200\nhttp-check expect string nope',
    expect: FAIL('two_rules', 'Layer7 invalid response, info: "HTTP content check did not match"'),
  },
  { name: 'a chunked body is matched decoded', be: 'chunked', lines: 'option httpchk GET /?size=200&chunked=1&chunk=7\nhttp-check expect string 6789abcdefghij', expect: [OK('chunked')] },
  { name: 'a body that comes after the head, in a later read', be: 'late_body', server: 'script', lines: 'option httpchk GET /late\nhttp-check expect string late-marker', expect: [OK('late_body')] },
  {
    name: 'a body that ends with the close (no content-length)',
    be: 'noclen',
    lines: 'option httpchk GET /?size=100&noclen=1\nhttp-check expect string WXYZ-_0123',
    expect: [OK('noclen')],
  },
  // The first read has 'xyz': without min-recv the rule waits for more and finds 'abc'; with
  // min-recv 3 those three bytes are conclusive and the check fails.
  { name: 'no min-recv: a mismatch waits for more of the body', be: 'split_wait', server: 'script', lines: 'option httpchk GET /split\nhttp-check expect string abc', expect: [OK('split_wait')] },
  {
    name: 'min-recv reached: a mismatch is final',
    be: 'split_minrecv',
    server: 'script',
    lines: 'option httpchk GET /split\nhttp-check expect min-recv 3 string abc',
    expect: FAIL('split_minrecv', 'Layer7 invalid response, info: "HTTP content check did not match"'),
  },

  // ---- headers ----
  { name: 'hdr name: the header is there', be: 'hdr_name', lines: 'option httpchk GET /\nhttp-check expect hdr name X-Server', expect: [OK('hdr_name')] },
  {
    name: 'hdr name: the header is missing',
    be: 'hdr_missing',
    lines: 'option httpchk GET /\nhttp-check expect hdr name X-Nope',
    expect: FAIL('hdr_missing', 'Layer7 wrong status, code: 200, info: "OK"'),
  },
  { name: 'hdr -m beg name, -m sub value', be: 'hdr_beg_sub', lines: 'option httpchk GET /\nhttp-check expect hdr name -m beg x-ser value -m sub rig', expect: [OK('hdr_beg_sub')] },
  { name: 'hdr -m reg on name and value', be: 'hdr_reg', lines: 'option httpchk GET /\nhttp-check expect hdr name -m reg ^x-s.*r$ value -m reg ^or', expect: [OK('hdr_reg')] },
  { name: 'hdr -m end value', be: 'hdr_end', lines: 'option httpchk GET /?hdr=X-Ver:v1.2.3\nhttp-check expect hdr name x-ver value -m end .3', expect: [OK('hdr_end')] },
  { name: 'hdr value: each comma-separated value is tested', be: 'hdr_list', lines: 'option httpchk GET /?hdr=X-List:a,b,c\nhttp-check expect hdr name x-list value b', expect: [OK('hdr_list')] },
  {
    name: 'fhdr value: the full value is tested',
    be: 'fhdr_miss',
    lines: 'option httpchk GET /?hdr=X-List:a,b,c\nhttp-check expect fhdr name x-list value b',
    expect: FAIL('fhdr_miss', 'Layer7 wrong status, code: 200, info: "OK"'),
  },
  { name: 'fhdr value -m end with a comma', be: 'fhdr_end', lines: 'option httpchk GET /?hdr=X-List:a,b,c\nhttp-check expect fhdr name x-list value -m end b,c', expect: [OK('fhdr_end')] },
  { name: 'hdr value -m str is exact', be: 'hdr_str', lines: 'option httpchk GET /?hdr=X-A:exact\nhttp-check expect hdr name x-a value -m str exac', expect: FAIL('hdr_str', 'Layer7 wrong status, code: 200, info: "OK"') },
  {
    name: '! hdr: the header is there',
    be: 'nhdr',
    lines: 'option httpchk GET /\nhttp-check expect ! hdr name x-server',
    expect: FAIL('nhdr', 'Layer7 wrong status, code: 200, info: "OK"'),
  },

  // ---- statuses, comment, on-success, on-error ----
  {
    name: 'error-status L7RSP on a status mismatch',
    be: 'err_status',
    lines: 'option httpchk GET /?status=500\nhttp-check expect error-status L7RSP status 200',
    expect: FAIL('err_status', 'Layer7 invalid response, info: "Internal Server Error"'),
  },
  {
    name: 'ok-status L4OK on success',
    be: 'ok_l4',
    lines: 'option httpchk GET /\nhttp-check expect ok-status L4OK status 200',
    expect: ['Health check for server ok_l4/s1 succeeded, reason: Layer4 check passed, check duration: Nms, status: 3/3 UP.'],
  },
  {
    name: 'comment is appended to the info of a failure',
    be: 'comment',
    lines: 'option httpchk GET /?status=500\nhttp-check expect comment is-it-up status 200',
    expect: FAIL('comment', 'Layer7 wrong status, code: 500, info: "Internal Server Error comment: is-it-up"'),
  },
  {
    name: 'on-error: its string is the info',
    be: 'on_error',
    lines: 'option httpchk GET /?status=500\nhttp-check expect on-error "custom failure" status 200',
    expect: FAIL('on_error', 'Layer7 wrong status, code: 500, info: "custom failure"'),
  },
  { name: 'on-success: its string is the info', be: 'on_success', lines: 'option httpchk GET /\nhttp-check expect on-success "all good" status 200', expect: [OK('on_success', 200, 'all good')] },
  {
    name: 'on-error on a body rule',
    be: 'on_error_body',
    lines: 'option httpchk GET /?size=10\nhttp-check expect on-error "no marker" string zzz',
    expect: FAIL('on_error_body', 'Layer7 invalid response, info: "no marker"'),
  },

  // ---- several connections ----
  {
    name: 'two connections, the second one refused: no step in the info of an http-check',
    be: 'conn2_refused',
    lines:
      'option httpchk\nhttp-check connect\nhttp-check send meth GET uri /\nhttp-check expect status 200\nhttp-check connect port {{closed}}\nhttp-check send meth GET uri /\nhttp-check expect status 200',
    expect: FAIL('conn2_refused', 'Layer4 connection problem, info: "Connection refused"'),
  },
  { name: 'two connections, both answered', be: 'conn2_ok', lines: 'option httpchk\nhttp-check connect\nhttp-check send meth GET uri /?status=201\nhttp-check expect status 201\nhttp-check connect port {{script}}\nhttp-check send meth GET uri /reason\nhttp-check expect status 503', expect: [OK('conn2_ok', 503)] },

  // ---- broken servers ----
  { name: 'the server closes without answering: L7RSP', be: 'close', server: 'script', lines: 'option httpchk GET /close', expect: FAIL('close', 'Layer7 invalid response') },
  { name: 'garbage instead of a response: L7RSP', be: 'garbage', lines: 'option httpchk GET /?garbage=1', expect: FAIL('garbage', 'Layer7 invalid response') },
  { name: 'a reset instead of a response', be: 'reset', server: 'script', lines: 'option httpchk GET /reset', expect: FAIL('reset', 'Socket error, info: "Connection reset by peer"') },
  { name: 'a head cut by the close', be: 'cut_head', server: 'script', lines: 'option httpchk GET /cuthead', expect: FAIL('cut_head', 'Layer7 invalid response') },
  // haproxy evaluates the first status line it reads, an interim one included (2.6 and later
  // alike: tcpcheck.c has no case for 1xx), so a 100 before the 200 fails the check.
  {
    name: '1xx before the final status: the interim status is the one evaluated',
    be: 'interim',
    server: 'script',
    lines: 'option httpchk GET /interim\nhttp-check expect status 200',
    expect: FAIL('interim', 'Layer7 wrong status, code: 100, info: "Continue"'),
    // sluice reads past interim responses to the final one (a 103 Early Hints would otherwise
    // take a healthy server down).
    sluiceExpect: [OK('interim')],
  },

  // ---- timeouts ----
  {
    name: 'slow server: timeout check gives L7TOUT',
    be: 'tout_check',
    server: 'script',
    lines: 'timeout check 300\noption httpchk GET /slow',
    srv: 'inter 2s',
    expect: FAIL('tout_check', 'Layer7 timeout'),
    minDuration: 300,
  },
  {
    name: 'slow server without timeout check: inter bounds the check',
    be: 'tout_inter',
    server: 'script',
    lines: 'option httpchk GET /slow',
    srv: 'inter 400',
    expect: FAIL('tout_inter', 'Layer7 timeout'),
    minDuration: 400,
  },
  {
    name: 'tout-status replaces L7TOUT',
    be: 'tout_status',
    server: 'script',
    lines: 'timeout check 300\noption httpchk GET /slow\nhttp-check expect tout-status L6TOUT status 200',
    srv: 'inter 2s',
    expect: FAIL('tout_status', 'Layer6 timeout'),
  },
];

// Without `timeout check` a check has `inter` in all: on a loaded machine a few hundred ms may
// not be enough, so every backend gets one unless the case is about its absence.
function backendOf(c: ExpectCase): string {
  const lines = c.lines.includes('timeout check') || c.be === 'tout_inter' ? c.lines : `timeout check 2s\n${c.lines}`;
  const body = lines
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  return `backend ${c.be}\n${body}\n    server s1 127.0.0.1:{{${c.server ?? 'origin'}}} check inter 300 ${c.srv ?? ''}\n`;
}

const CONFIG = `global
    log stdout format raw local0
defaults
    mode http
    log global
    option log-health-checks
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe_up
    bind 127.0.0.1:{{port:up}}
    default_backend st_list
frontend fe_down
    bind 127.0.0.1:{{port:down}}
    default_backend st_miss
${CASES.map(backendOf).join('')}`;

/** Answers the origin cannot give. */
async function startScript(): Promise<ScriptedHttp> {
  return startScriptedHttp({
    '/reason': (c) => c.write(httpResponse(503, 'Going Away Soon')),
    '/late': async (c) => {
      const body = 'x'.repeat(40) + 'late-marker';
      await c.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
      await pause(150);
      await c.write(body);
    },
    '/split': async (c) => {
      await c.write('HTTP/1.1 200 OK\r\ncontent-length: 15\r\n\r\nxyz');
      await pause(150);
      await c.write('abc123456789');
    },
    '/close': (c) => c.end(),
    '/reset': (c) => c.resetAndDestroy(),
    '/cuthead': (c) => c.write('HTTP/1.1 200 OK\r\nx-a: 1\r\n'),
    '/interim': async (c) => {
      await c.write('HTTP/1.1 100 Continue\r\n\r\n');
      await pause(50);
      await c.write('HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n');
      await pause(50);
      await c.write(httpResponse(200, 'OK'));
    },
    '/slow': async (c) => {
      await c.waitClose(1500);
      if (!c.closed) await c.write(httpResponse(200, 'OK'));
    },
  });
}

let origin: Origin;
let script: ScriptedHttp;
/** A port nothing listens on. */
let closed = 0;
const sides = lazySides(CONFIG, () => ({ values: { origin: origin.port, script: script.port, closed } }));
const startedAt = new WeakMap<Side, number>();

before(async () => {
  origin = await startOrigin('origin');
  script = await startScript();
  closed = await freePort();
});
after(async () => {
  await sides.stop();
  await origin?.close();
  await script?.close();
});

/** Waits for the case's lines, then lets a few more checks run to see that nothing else comes. */
async function linesOf(side: Side, c: ExpectCase): Promise<string[]> {
  if (!startedAt.has(side)) startedAt.set(side, Date.now());
  const n = (side.kind === 'sluice' && c.sluiceExpect !== undefined ? c.sluiceExpect : c.expect).length;
  await waitHealthLines(side.proc, n, { be: c.be, timeoutMs: 5000 });
  const settle = startedAt.get(side)! + 1500 - Date.now();
  if (settle > 0) await pause(settle);
  return healthLines(side.proc, { be: c.be });
}

describe('http-check expect', { concurrency: 8 }, () => {
  for (const c of CASES) {
    sideTest(
      c.name,
      sides,
      async (side) => {
        const got = await linesOf(side, c);
        assert.deepEqual(got, side.kind === 'sluice' && c.sluiceExpect !== undefined ? c.sluiceExpect : c.expect);
        if (c.minDuration !== undefined) {
          const raw = healthLines(side.proc, { be: c.be, raw: true })[0]!;
          assert.ok(checkDuration(raw) >= c.minDuration - 5, `check duration below ${c.minDuration} ms: ${raw}`);
        }
      },
      c.todo !== undefined ? { todo: c.todo } : {},
    );
  }

  sideTest('traffic: a backend whose server is up reaches it, one whose server is down answers 503', sides, async (side) => {
    await linesOf(side, CASES.find((c) => c.be === 'st_miss')!);
    await linesOf(side, CASES.find((c) => c.be === 'st_list')!);
    const up = await request(side.port('up'), { path: '/?status=201' });
    assert.equal(up.status, 201);
    assert.equal(up.header('x-server'), 'origin');
    const down = await request(side.port('down'), { path: '/' });
    assert.equal(down.status, 503);
  });
});
