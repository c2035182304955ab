// `bind ... maxconn N`: a bind at its limit holds new connections (they wait, they are not
// refused) while the other binds of the same frontend go on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, request, startOrigin, startSluice } from '../../harness/index.js';

test('a bind at its maxconn makes new clients wait; other binds keep answering', async (t) => {
  const origin = await startOrigin('o');
  t.after(() => origin.close());
  const pa = await freePort();
  const pb = await freePort();
  const sl = await startSluice(
    `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${pa} maxconn 1
    bind 127.0.0.1:${pb}
    default_backend be
backend be
    server s1 127.0.0.1:${origin.port}
`,
    { waitPorts: [pb] },
  );
  t.after(() => sl.stop());
  const order: string[] = [];
  const slow = request(pa, { path: '/?delay=600', headers: { Connection: 'close' } }).then((r) => {
    order.push('a1');
    return r;
  });
  await origin.waitFor(() => origin.requestCount >= 1, 2000);
  const second = request(pa, { path: '/?size=1', headers: { Connection: 'close' } }).then((r) => {
    order.push('a2');
    return r;
  });
  const other = await request(pb, { path: '/?size=2', headers: { Connection: 'close' } });
  order.push('b');
  assert.equal(other.status, 200);
  const [r1, r2] = await Promise.all([slow, second]);
  assert.equal(r1.status, 200);
  assert.equal(r2.status, 200, 'the waiting client is served, not refused');
  assert.deepEqual(order, ['b', 'a1', 'a2'], 'bind b answered at once; a2 waited for a1 to end');
});
