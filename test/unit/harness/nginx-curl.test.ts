// The nginx helper serves requests; curl() and the raw HTTP client read them.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { HttpClient, canConnect, curl, makeTempDir, skipUnless, startNginx, startOrigin } from '../../harness/index.js';

describe('startNginx', { skip: skipUnless('nginx') }, () => {
  test('serves the fixed body with keep-alive, and a root folder', async () => {
    const root = makeTempDir('nginx-root-');
    fs.writeFileSync(path.join(root, 'file.txt'), 'from a file\n');
    const n = await startNginx({
      body: 'hello "world"\n',
      root,
      config: '        location /teapot { return 418; }\n',
    });
    try {
      const c = await HttpClient.connect(n.port);
      const r1 = await c.request({ path: '/' });
      assert.equal(r1.status, 200);
      assert.equal(r1.text, 'hello "world"\n');
      const r2 = await c.request({ path: '/file.txt' });
      assert.equal(r2.text, 'from a file\n');
      const r3 = await c.request({ path: '/teapot' });
      assert.equal(r3.status, 418);
      assert.equal(r3.connectionClose, false);
      await c.close();
    } finally {
      await n.stop();
    }
    assert.equal(fs.existsSync(n.prefix), false);
    assert.equal(await canConnect(n.port), false);
  });

  test('curl reads status, headers and body', { skip: skipUnless('curl') }, async () => {
    const n = await startNginx();
    try {
      const r = await curl([`${n.url}/hello`]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.status, 200);
      assert.equal(r.httpVersion, '1.1');
      assert.equal(r.text, 'hello\n');
      assert.match(r.header('server') ?? '', /nginx/);
    } finally {
      await n.stop();
    }
  });
});

describe('curl', { skip: skipUnless('curl') }, () => {
  test('sees interim responses and the final one; reports connect failures', async () => {
    const o = await startOrigin('curl-origin');
    try {
      const r = await curl([
        '-X', 'POST', '-H', 'Expect: 100-continue', '--data-binary', 'abc',
        `http://127.0.0.1:${o.port}/?100=1&status=201&hdr=X-Y:z&size=4`,
      ]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.status, 201);
      assert.equal(r.header('x-y'), 'z');
      assert.equal(r.header('x-server'), 'curl-origin');
      assert.equal(r.body.length, 4);
      assert.match(r.rawHeaders, /^HTTP\/1.1 100 Continue/);
      const port = o.port;
      await o.close();
      const down = await curl([`http://127.0.0.1:${port}/`]);
      assert.equal(down.exitCode, 7);
      assert.equal(down.status, 0);
    } finally {
      await o.close().catch(() => undefined);
    }
  });
});
