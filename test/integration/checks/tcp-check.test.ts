// `option tcp-check` rulesets on sluice and haproxy 2.6 with one configuration: each backend
// checks one scripted TCP server with one sequence (connect, send, expect string / binary /
// rstring / rbinary, negated, min-recv, banners, several connections), and the test reads what
// `option log-health-checks` logs: the reason, and the info that names the step ("at step N of
// tcp-check", what the step was, its comment), then the DOWN lines after a failure.
//
// The servers are stateless per connection and shared by both proxies.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe } from 'node:test';
import { freePort, startRawServer, type RawConn, type RawServer } from '../../harness/index.js';
import { checkDuration, healthLines, pause, waitHealthLines } from '../../harness/checks.js';
import { lazySides, sideTest, type Side } from '../../harness/sides.js';

interface TcpCase {
  name: string;
  be: string;
  /** The backend's lines after `option tcp-check`. */
  lines: string;
  /** Which server the `server` line names. */
  server: keyof typeof SCRIPTS | 'closed';
  srv?: string;
  expect: string[];
  minDuration?: number;
  todo?: string;
}

const OK = (be: string, info = '(tcp-check)'): string =>
  `Health check for server ${be}/s1 succeeded, reason: Layer7 check passed, code: 0, info: "${info}", check duration: Nms, status: 3/3 UP.`;
const DOWN = (be: string): string[] => [
  `Server ${be}/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`,
  `backend ${be} has no server available!`,
];
const FAIL = (be: string, reason: string): string[] => [
  `Health check for server ${be}/s1 failed, reason: ${reason}, check duration: Nms, status: 0/2 DOWN.`,
  ...DOWN(be),
];

/** Reads lines of input and answers each line `PING` with `+PONG`; `close`: FIN after the first answer. */
function pong(close: boolean) {
  return async (c: RawConn): Promise<void> => {
    let answered = 0;
    for (let i = 0; i < 10 && !c.closed && !c.ended; i++) {
      const d = await c.waitFor((b) => b.toString('latin1').split('PING').length - 1 > answered, 3000);
      const n = d.toString('latin1').split('PING').length - 1;
      if (n <= answered) break;
      for (; answered < n; answered++) await c.write('+PONG\r\n');
      if (close) return c.end();
    }
  };
}

/** Every server: a script per accepted connection. */
const SCRIPTS = {
  /** +PONG for each PING, connection kept open. */
  pong: pong(false),
  /** +PONG for the first PING, then FIN. */
  pongclose: pong(true),
  /** An SMTP-like banner at once; `221 bye` and FIN after QUIT. */
  banner: async (c: RawConn) => {
    await c.write('220 mail.test ESMTP ready\r\n');
    await c.waitFor((b) => b.includes('QUIT'), 3000);
    if (c.text().includes('QUIT')) await c.write('221 bye\r\n');
    c.end();
  },
  /** Reads and never answers. */
  silent: async (c: RawConn) => {
    await c.waitClose(5000);
  },
  /** FIN right after the accept. */
  closer: (c: RawConn) => c.end(),
  /** A reset once something was received. */
  resetter: async (c: RawConn) => {
    await c.waitFor((b) => b.length > 0, 3000);
    c.resetAndDestroy();
  },
  /** Bytes 00 01 02 ff 41 once something was received, then FIN. */
  binary: async (c: RawConn) => {
    await c.waitFor((b) => b.length > 0, 3000);
    await c.write(Buffer.from([0x00, 0x01, 0x02, 0xff, 0x41]));
    c.end();
  },
  /** `second` once it read `hello`, then FIN (the target of a second connect rule). */
  second: async (c: RawConn) => {
    await c.waitFor((b) => b.includes('hello'), 3000);
    await c.write('second\n');
    c.end();
  },
  /** Accepts and reads whatever comes; FIN when the peer is done. */
  sink: async (c: RawConn) => {
    await c.waitClose(5000);
  },
};

const CASES: TcpCase[] = [
  // ---- send, expect string ----
  { name: 'send then expect string: passes', be: 'str_ok', server: 'pong', lines: 'tcp-check send PING\\r\\n\ntcp-check expect string +PONG', expect: [OK('str_ok')] },
  {
    name: 'expect string: a mismatch before the close fails',
    be: 'str_miss',
    server: 'pongclose',
    lines: 'tcp-check send PING\\r\\n\ntcp-check expect string +OK',
    expect: FAIL('str_miss', `Layer7 invalid response, info: "TCPCHK did not match content '+OK' at step 2"`),
  },
  {
    name: 'expect string: a mismatch on an open connection waits until the timeout',
    be: 'str_wait',
    server: 'pong',
    lines: 'timeout check 300\ntcp-check send PING\\r\\n\ntcp-check expect string +OK',
    srv: 'inter 2s',
    expect: FAIL('str_wait', `Layer7 timeout, info: " at step 2 of tcp-check (expect string '+OK')"`),
    minDuration: 300,
  },
  {
    name: 'min-recv makes a mismatch final without waiting for the timeout',
    be: 'minrecv',
    server: 'pong',
    lines: 'timeout check 3s\ntcp-check send PING\\r\\n\ntcp-check expect min-recv 3 string +OK',
    expect: FAIL('minrecv', `Layer7 invalid response, info: "TCPCHK did not match content '+OK' at step 2"`),
  },
  {
    name: '! string: the unwanted content is there',
    be: 'nstr_hit',
    server: 'pongclose',
    lines: 'tcp-check send PING\\r\\n\ntcp-check expect ! string +PONG',
    expect: FAIL('nstr_hit', `Layer7 invalid response, info: "TCPCHK matched unwanted content '+PONG' at step 2"`),
  },
  { name: '! string: absent, the check passes once the server closed', be: 'nstr_ok', server: 'pongclose', lines: 'tcp-check send PING\\r\\n\ntcp-check expect ! string -ERR', expect: [OK('nstr_ok')] },
  { name: 'rstring matching', be: 'rstr_ok', server: 'pong', lines: 'tcp-check send PING\\r\\n\ntcp-check expect rstring ^\\+P.NG', expect: [OK('rstr_ok')] },
  {
    name: 'rstring not matching',
    be: 'rstr_miss',
    server: 'pongclose',
    lines: 'tcp-check send PING\\r\\n\ntcp-check expect rstring ^-ERR',
    expect: FAIL('rstr_miss', `Layer7 invalid response, info: "TCPCHK did not match content (regex) at step 2"`),
  },
  { name: 'two round trips on one connection', be: 'twice', server: 'pong', lines: 'tcp-check send PING\\r\\n\ntcp-check expect string +PONG\ntcp-check send PING\\r\\n\ntcp-check expect string +PONG', expect: [OK('twice')] },

  // ---- binary ----
  { name: 'send-binary, expect binary', be: 'bin_ok', server: 'binary', lines: 'tcp-check send-binary 50494e47\ntcp-check expect binary 0102ff', expect: [OK('bin_ok')] },
  {
    name: 'expect binary not matching',
    be: 'bin_miss',
    server: 'binary',
    lines: 'tcp-check send-binary 50494e47\ntcp-check expect binary 0303',
    expect: FAIL('bin_miss', `Layer7 invalid response, info: "TCPCHK did not match content (binary) at step 2"`),
  },
  { name: 'rbinary on the hex of the bytes', be: 'rbin_ok', server: 'binary', lines: 'tcp-check send-binary 00\ntcp-check expect rbinary ^000102FF', expect: [OK('rbin_ok')] },
  {
    name: 'rbinary not matching',
    be: 'rbin_miss',
    server: 'binary',
    lines: 'tcp-check send-binary 00\ntcp-check expect rbinary ^FF',
    expect: FAIL('rbin_miss', `Layer7 invalid response, info: "TCPCHK did not match content (binary regex) at step 2"`),
  },
  {
    name: '! binary: the unwanted bytes are there',
    be: 'nbin',
    server: 'binary',
    lines: 'tcp-check send-binary 00\ntcp-check expect ! binary ff41',
    expect: FAIL('nbin', `Layer7 invalid response, info: "TCPCHK matched unwanted content (binary) at step 2"`),
  },

  // ---- banners, send only, connect only ----
  { name: 'banner only: expect as the first rule', be: 'banner', server: 'banner', lines: 'tcp-check expect string 220', expect: [OK('banner')] },
  { name: 'banner, then QUIT and its answer', be: 'banner_quit', server: 'banner', lines: 'tcp-check expect string 220\ntcp-check send QUIT\\r\\n\ntcp-check expect string 221', expect: [OK('banner_quit')] },
  { name: 'send only', be: 'send_only', server: 'sink', lines: 'tcp-check send hello\\n', expect: [OK('send_only')] },
  {
    name: 'connect rule only',
    be: 'connect_only',
    server: 'sink',
    lines: 'tcp-check connect',
    expect: ['Health check for server connect_only/s1 succeeded, reason: Layer4 check passed, info: "(tcp-check)", check duration: Nms, status: 3/3 UP.'],
  },
  {
    name: 'no rule at all: a layer-4 check',
    be: 'no_rules',
    server: 'sink',
    lines: '',
    expect: ['Health check for server no_rules/s1 succeeded, reason: Layer4 check passed, check duration: Nms, status: 3/3 UP.'],
  },

  // ---- several connections ----
  {
    name: 'two connect rules, the second to another port',
    be: 'two_conns',
    server: 'pong',
    lines: 'tcp-check connect\ntcp-check send PING\\r\\n\ntcp-check expect string +PONG\ntcp-check connect port {{second}}\ntcp-check send hello\\n\ntcp-check expect string second',
    expect: [OK('two_conns')],
  },
  {
    name: 'the second connect is refused: its step and port in the info',
    be: 'conn2_refused',
    server: 'pong',
    lines: 'tcp-check connect\ntcp-check send PING\\r\\n\ntcp-check expect string +PONG\ntcp-check connect port {{closed}}\ntcp-check send hello\\n',
    expect: FAIL('conn2_refused', 'Layer4 connection problem, info: "Connection refused at step 4 of tcp-check (connect port {{closed}})"'),
  },
  {
    name: 'a refused first connection of a ruleset',
    be: 'conn_refused',
    server: 'closed',
    lines: 'tcp-check send PING\\r\\n\ntcp-check expect string +PONG',
    expect: FAIL('conn_refused', 'Layer4 connection problem, info: "Connection refused at initial connection step of tcp-check"'),
  },
  {
    name: 'an explicit first connect refused',
    be: 'conn1_refused',
    server: 'closed',
    lines: 'tcp-check connect\ntcp-check send PING\\r\\n',
    expect: FAIL('conn1_refused', 'Layer4 connection problem, info: "Connection refused at step 1 of tcp-check (connect)"'),
  },

  // ---- empty answers, resets, timeouts, comments ----
  {
    name: 'the server closes without a byte: empty response',
    be: 'empty',
    server: 'closer',
    lines: 'tcp-check expect string 220',
    expect: FAIL('empty', 'Layer7 invalid response, info: "TCPCHK got an empty response at step 1"'),
  },
  {
    name: 'empty response after a send',
    be: 'empty_send',
    server: 'closer',
    lines: 'tcp-check send PING\\r\\n\ntcp-check expect string +PONG',
    expect: FAIL('empty_send', 'Layer7 invalid response, info: "TCPCHK got an empty response at step 2"'),
  },
  {
    name: 'a reset instead of an answer',
    be: 'reset',
    server: 'resetter',
    lines: 'tcp-check send PING\\r\\n\ntcp-check expect string +PONG',
    expect: FAIL('reset', 'Socket error, info: "Connection reset by peer at step 2 of tcp-check (expect string \'+PONG\')"'),
  },
  {
    name: 'a banner that never comes: timeout at the first step',
    be: 'tout_banner',
    server: 'silent',
    lines: 'timeout check 300\ntcp-check expect string 220',
    srv: 'inter 2s',
    expect: FAIL('tout_banner', `Layer7 timeout, info: " at step 1 of tcp-check (expect string '220')"`),
    minDuration: 300,
  },
  {
    name: 'timeout of a binary expect',
    be: 'tout_bin',
    server: 'silent',
    lines: 'timeout check 300\ntcp-check send x\ntcp-check expect binary 41420aff',
    srv: 'inter 2s',
    // haproxy writes the pattern's bytes; its log shows the unprintable ones as <XX>.
    expect: FAIL('tout_bin', `Layer7 timeout, info: " at step 2 of tcp-check (expect binary 'AB<0A><FF>')"`),
  },
  {
    name: 'timeout of an rstring expect',
    be: 'tout_rstr',
    server: 'silent',
    lines: 'timeout check 300\ntcp-check send x\ntcp-check expect rstring ^ok',
    srv: 'inter 2s',
    expect: FAIL('tout_rstr', `Layer7 timeout, info: " at step 2 of tcp-check (expect regex)"`),
  },
  {
    name: 'the comment of the step is in the info of a timeout',
    be: 'tout_comment',
    server: 'silent',
    lines: 'timeout check 300\ntcp-check send x\ntcp-check expect string ok comment waiting-for-ok',
    srv: 'inter 2s',
    expect: FAIL('tout_comment', `Layer7 timeout, info: " at step 2 of tcp-check (expect string 'ok') comment: 'waiting-for-ok'"`),
  },
  {
    // A comment rule counts as a step, and the comment goes to the rule after it.
    name: 'comment rules count as steps and name the next rule',
    be: 'comment_steps',
    server: 'pongclose',
    lines: 'tcp-check comment first\ntcp-check send PING\\r\\n\ntcp-check comment second\ntcp-check expect string +OK',
    expect: FAIL('comment_steps', `Layer7 invalid response, info: "TCPCHK did not match content '+OK' at step 4 comment: second"`),
  },
  {
    // Quoted in the info of a timeout, not in that of a mismatch.
    name: 'the comment of a failed expect',
    be: 'fail_comment',
    server: 'pongclose',
    lines: 'tcp-check send PING\\r\\n\ntcp-check expect string +OK comment want-ok',
    expect: FAIL('fail_comment', `Layer7 invalid response, info: "TCPCHK did not match content '+OK' at step 2 comment: want-ok"`),
  },
  {
    name: 'without timeout check, inter bounds the expect',
    be: 'tout_inter',
    server: 'silent',
    lines: 'tcp-check expect string 220',
    srv: 'inter 400',
    expect: FAIL('tout_inter', `Layer7 timeout, info: " at step 1 of tcp-check (expect string '220')"`),
    minDuration: 400,
  },

  // ---- statuses ----
  {
    // L7STS carries a code in the line: 0 for tcp-check.
    name: 'error-status L7STS: the line has code 0',
    be: 'err_status',
    server: 'pongclose',
    lines: 'tcp-check send PING\\r\\n\ntcp-check expect error-status L7STS string +OK',
    expect: FAIL('err_status', `Layer7 wrong status, code: 0, info: "TCPCHK did not match content '+OK' at step 2"`),
  },
  {
    name: 'on-error: its string is the info',
    be: 'on_error',
    server: 'pongclose',
    lines: 'tcp-check send PING\\r\\n\ntcp-check expect on-error "no pong" string +OK',
    expect: FAIL('on_error', 'Layer7 invalid response, info: "no pong"'),
  },
  {
    name: 'tout-status',
    be: 'tout_status',
    server: 'silent',
    lines: 'timeout check 300\ntcp-check expect tout-status L4TOUT string 220',
    srv: 'inter 2s',
    expect: FAIL('tout_status', `Layer4 timeout, info: " at step 1 of tcp-check (expect string '220')"`),
  },
  {
    name: 'ok-status and on-success',
    be: 'ok_status',
    server: 'pong',
    lines: 'tcp-check send PING\\r\\n\ntcp-check expect ok-status L6OK on-success "pong seen" string +PONG',
    expect: ['Health check for server ok_status/s1 succeeded, reason: Layer6 check passed, info: "pong seen", check duration: Nms, status: 3/3 UP.'],
  },
];

// Without `timeout check` a check has `inter` in all: on a loaded machine a few hundred ms may
// not be enough, so every backend gets one unless the case is about its absence.
function backendOf(c: TcpCase): string {
  const lines = c.lines.includes('timeout check') || c.be === 'tout_inter' ? c.lines : `timeout check 2s\n${c.lines}`;
  const body = lines === '' ? '' : lines.split('\n').filter((l) => l !== '').map((l) => `    ${l}\n`).join('');
  return `backend ${c.be}\n    mode tcp\n    option tcp-check\n${body}    server s1 127.0.0.1:{{${c.server}}} check inter 300 ${c.srv ?? ''}\n`;
}

const CONFIG = `global
    log stdout format raw local0
defaults
    mode tcp
    log global
    option log-health-checks
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{{port:fe}}
    default_backend str_ok
${CASES.map(backendOf).join('')}`;

const servers = new Map<string, RawServer>();
let closed = 0;
const sides = lazySides(CONFIG, () => {
  const values: Record<string, number> = { closed };
  for (const [k, s] of servers) values[k] = s.port;
  return { values };
});
const startedAt = new WeakMap<Side, number>();

before(async () => {
  for (const [name, script] of Object.entries(SCRIPTS)) {
    servers.set(
      name,
      await startRawServer(async (c) => {
        c.socket.on('error', () => {});
        await script(c);
      }),
    );
  }
  // A port nothing listens on: bound and closed again, kept unused by its listener below.
  closed = await freePort();
});
after(async () => {
  await sides.stop();
  for (const s of servers.values()) await s.close();
});

const fill = (s: string): string => s.replaceAll('{{closed}}', String(closed));

describe('tcp-check', { concurrency: 8 }, () => {
  for (const c of CASES) {
    sideTest(
      c.name,
      sides,
      async (side) => {
        if (!startedAt.has(side)) startedAt.set(side, Date.now());
        const want = c.expect.map(fill);
        await waitHealthLines(side.proc, want.length, { be: c.be, timeoutMs: 5000 });
        const settle = startedAt.get(side)! + 1500 - Date.now();
        if (settle > 0) await pause(settle);
        assert.deepEqual(healthLines(side.proc, { be: c.be }), want);
        if (c.minDuration !== undefined) {
          const raw = healthLines(side.proc, { be: c.be, raw: true })[0]!;
          assert.ok(checkDuration(raw) >= c.minDuration - 5, `check duration below ${c.minDuration} ms: ${raw}`);
        }
      },
      c.todo !== undefined ? { todo: c.todo } : {},
    );
  }

  sideTest('traffic goes to a server whose tcp-check passes', sides, async (side) => {
    await waitHealthLines(side.proc, 1, { be: 'str_ok' });
    const s = net.connect(side.port('fe'), '127.0.0.1');
    s.on('error', () => {});
    s.write('PING\r\n');
    const got = await new Promise<string>((resolve) => {
      let acc = '';
      const timer = setTimeout(() => resolve(acc), 3000);
      s.on('data', (d: Buffer) => {
        acc += d.toString('latin1');
        if (acc.includes('+PONG')) {
          clearTimeout(timer);
          resolve(acc);
        }
      });
    });
    s.destroy();
    assert.equal(got, '+PONG\r\n');
  });
});
