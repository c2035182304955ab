// `npm start` runs examples/demo.cfg: the demo must stay a working configuration. The file is
// copied with its four ports replaced by free ones, checked, run, and asked in turn.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { freePorts, HttpClient, repoRoot, request, runCheck, startSluice } from '../../harness/index.js';

const DEMO_PORTS = [8080, 8181, 8182, 8183];

async function demoConfig(): Promise<{ text: string; ports: number[] }> {
  const original = fs.readFileSync(path.join(repoRoot(), 'examples', 'demo.cfg'), 'utf8');
  const ports = await freePorts(DEMO_PORTS.length);
  let text = original;
  DEMO_PORTS.forEach((p, i) => {
    assert.ok(text.includes(`127.0.0.1:${p}`), `demo.cfg no longer uses port ${p}: update this test`);
    text = text.replaceAll(`127.0.0.1:${p}`, `127.0.0.1:${ports[i]}`);
  });
  return { text, ports };
}

test('examples/demo.cfg is valid', async () => {
  const { text } = await demoConfig();
  const r = await runCheck('sluice', text);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Configuration file is valid/);
  assert.doesNotMatch(r.stderr, /\[(ALERT|WARNING)\]/);
});

test('examples/demo.cfg runs and answers from app1, app2, app3 in turn', async (t) => {
  const { text, ports } = await demoConfig();
  const p = await startSluice(text, { waitPorts: ports });
  t.after(() => p.stop());
  const bodies: string[] = [];
  // New connections and one kept-alive connection: round robin either way.
  for (let i = 0; i < 3; i++) {
    const r = await request(ports[0]!, { path: '/' });
    assert.equal(r.status, 200);
    assert.match(r.header('content-type') ?? '', /^text\/plain/);
    bodies.push(r.text);
  }
  const c = await HttpClient.connect(ports[0]!);
  try {
    for (let i = 0; i < 3; i++) bodies.push((await c.request({ path: '/again' })).text);
  } finally {
    await c.close();
  }
  const first = bodies[0]!;
  const start = ['hello from app1\n', 'hello from app2\n', 'hello from app3\n'].indexOf(first);
  assert.ok(start >= 0, `unexpected body ${JSON.stringify(first)}`);
  const expected = bodies.map((_, i) => `hello from app${((start + i) % 3) + 1}\n`);
  assert.deepEqual(bodies, expected);
  // The demo logs with `log stdout format raw` and `option httplog`: one line per request.
  await p.waitForLine(/ www demo\/app\d .* 200 .*"GET \/again HTTP\/1\.1"$/, 2000);
});
