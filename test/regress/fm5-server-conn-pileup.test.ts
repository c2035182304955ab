// Failure mode #5 (design.md), the proxy's own side: connections must not pile up on servers.
// Many short client sessions one after the other (each a new connection, as health checks and
// simple clients do) need one server connection at a time; the idle server connections kept
// afterwards must stay near that need, as haproxy's do (it keeps an idle connection only while
// used + idle stays within the recently observed need), not grow with the number of sessions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freePort, request, skipUnless, startHaproxy, startOrigin, startSluice, type ProcHandle } from '../harness/index.js';

type Starter = (cfg: string, opts: { waitPorts: number[] }) => Promise<ProcHandle>;

const programs: Array<{ name: string; start: Starter; skip: string | false; todo?: string }> = [
  {
    name: 'sluice',
    start: startSluice,
    skip: false,
  },
  { name: 'haproxy', start: startHaproxy, skip: skipUnless('haproxy') },
];

const SESSIONS = 60;

for (const prog of programs) {
  describe(`${prog.name}: sequential sessions and idle server connections`, { skip: prog.skip }, () => {
    test(`${SESSIONS} sessions one after the other leave only a few server connections open`, { todo: prog.todo }, async (t) => {
      const origin = await startOrigin('app');
      t.after(() => origin.close());
      const port = await freePort();
      const p = await prog.start(
        `global
    nbthread 1
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server s1 127.0.0.1:${origin.port}
`,
        { waitPorts: [port] },
      );
      t.after(() => p.stop());
      for (let i = 0; i < SESSIONS; i++) {
        const r = await request(port, { path: `/s/${i}`, headers: { Connection: 'close' } });
        assert.equal(r.status, 200);
      }
      // Let the closes settle, then count what the origin still has open.
      for (let i = 0; i < 30 && origin.connectionsOpen > 3; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(origin.connectionsOpen <= 3, `${origin.connectionsOpen} server connections open after ${SESSIONS} sequential sessions`);
      assert.equal(origin.requestCount, SESSIONS);
    });
  });
}
