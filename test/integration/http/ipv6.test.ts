// Several binds per frontend, on IPv4 and IPv6, and a server reached over IPv6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { freePort, request, startOrigin, startSluice } from '../../harness/index.js';

/** Whether this machine has a usable ::1. */
async function haveIpv6(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

test('a frontend with an IPv4 and an IPv6 bind answers on both; logs show each client address', { skip: !(await haveIpv6()) && 'no ::1 here' }, async (t) => {
  const origin = await startOrigin('v');
  t.after(() => origin.close());
  const p4 = await freePort();
  const p6 = await freePort();
  const sl = await startSluice(
    `global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${p4}
    bind [::1]:${p6}
    default_backend be
backend be
    server s1 127.0.0.1:${origin.port}
`,
    { waitPorts: [p4] },
  );
  t.after(() => sl.stop());
  const r4 = await request(p4, { path: '/?size=3' });
  assert.equal(r4.status, 200);
  const r6 = await request(p6, { path: '/?size=4', headers: { Host: `[::1]:${p6}` } }, '::1');
  assert.equal(r6.status, 200);
  assert.equal(r6.body.length, 4);
  await sl.waitForLine((l: string) => l.startsWith('::1:') && l.includes(' fe be/s1 '), 3000);
  await sl.waitForLine((l: string) => l.startsWith('127.0.0.1:') && l.includes(' fe be/s1 '), 3000);
});

test('a server addressed over IPv6', { skip: !(await haveIpv6()) && 'no ::1 here' }, async (t) => {
  const backend = net.createServer((c) => {
    c.once('data', () => c.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nv6'));
  });
  await new Promise<void>((r) => backend.listen(0, '::1', () => r()));
  t.after(() => backend.close());
  const port = await freePort();
  const sl = await startSluice(
    `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server s1 [::1]:${(backend.address() as net.AddressInfo).port}
`,
    { waitPorts: [port] },
  );
  t.after(() => sl.stop());
  const r = await request(port, { path: '/' });
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'v6');
});
