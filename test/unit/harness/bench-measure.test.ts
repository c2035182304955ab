// The benchmark's measuring parts: wrk's report and /proc CPU accounting.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { clockTicks, parseWrk, treeCpuTicks } from '../../../bench/measure.js';

const WRK = `Running 10s test @ http://127.0.0.1:8080/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.41us  201.00us   9.87ms   90.00%
    Req/Sec    61.90k     1.20k   63.00k    80.00%
  Latency Distribution
     50%  765.00us
     75%  850.00us
     90%    1.01ms
     99%    1.63ms
  616043 requests in 10.00s, 104.57MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:  61597.23
Transfer/sec:     10.46MB
`;

describe('bench measure', () => {
  test('parseWrk reads counts, rate, percentiles and errors', () => {
    const r = parseWrk(WRK);
    assert.equal(r.requests, 616043);
    assert.equal(r.durationS, 10);
    assert.equal(r.requestsPerSec, 61597.23);
    assert.equal(r.latencyP50Ms, 0.765);
    assert.equal(r.latencyP99Ms, 1.63);
    assert.equal(r.socketErrors, 3);
    assert.equal(r.non2xx3xx, 5);
    assert.throws(() => parseWrk('unable to connect'), /cannot read wrk output/);
  });

  test('treeCpuTicks counts a busy child of the process', { skip: process.platform !== 'linux' }, async () => {
    assert.ok(clockTicks() > 0);
    // A shell whose child burns CPU for ~300 ms: the tree total must grow, the root alone not much.
    const sh = spawn('/bin/sh', ['-c', 'timeout 0.3 sh -c "while :; do :; done"; sleep 5'], {
      stdio: 'ignore',
      detached: true,
    });
    try {
      await new Promise((r) => setTimeout(r, 450));
      const ticks = treeCpuTicks(sh.pid!);
      assert.ok(ticks / clockTicks() >= 0.15, `only ${ticks} ticks`);
      assert.equal(treeCpuTicks(999999999), 0);
    } finally {
      process.kill(-sh.pid!, 'SIGKILL'); // the whole group, sleep included
    }
  });
});
