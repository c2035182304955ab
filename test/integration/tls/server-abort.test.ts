// A TLS connection to a server that must be dropped rather than reused (the client went away in
// the middle of a large response): sluice closes it at once. Node cannot reset a TLS socket
// (resetAndDestroy throws on its handle), which once surfaced as an "internal error" and a
// server connection left open; now it closes, and sluice goes on answering.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';
import { freePort, makeCa, request, startSluice, startTlsOrigin } from '../../harness/index.js';

test('a client leaving during a large response over a TLS server connection: no internal error, the connection closes', async (t) => {
  const ca = makeCa();
  const cert = ca.issue('srv', { sans: ['srv.test'] });
  const origin = await startTlsOrigin({ cert: cert.cert, key: cert.key, alpn: 'h1' });
  t.after(() => origin.close());
  const port = await freePort();
  const p = await startSluice(
    `defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server s1 127.0.0.1:${origin.port} ssl verify none
`,
    { waitPorts: [port] },
  );
  t.after(() => p.stop());
  // Ten times a client that reads the beginning of 8 MB and leaves.
  for (let i = 0; i < 10; i++) {
    await new Promise<void>((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => c.write('GET /big?size=8388608 HTTP/1.1\r\nhost: x\r\n\r\n'));
      c.once('data', () => {
        c.destroy();
        resolve();
      });
      c.on('error', reject);
    });
  }
  const r = await request(port, { path: '/after' });
  assert.equal(r.status, 200);
  const errors = p.lines().filter((l) => l.text.includes('internal error'));
  assert.deepEqual(errors.map((l) => l.text), []);
});
