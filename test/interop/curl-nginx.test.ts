// The real curl as the client and the real nginx as the server, through sluice. Every check also
// runs through haproxy 2.6 with the same configuration, so that a failure on the sluice side is
// sluice's and not the test's expectation.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  curl,
  makeTempDir,
  skipUnless,
  startNginx,
  startOrigin,
  type CurlResult,
  type EchoReport,
  type NginxHandle,
  type Origin,
} from '../harness/index.js';
import { startReferencePair, type ProxyKind, type ReferencePair } from './reference.js';

const CONFIG = `
defaults
    mode http
    timeout connect 2s
    timeout client 20s
    timeout server 20s

frontend fe
    bind 127.0.0.1:{{port:fe}}
    default_backend nginx

backend nginx
    server n1 127.0.0.1:{{nginx}}
`;

const SIDES: readonly ProxyKind[] = ['haproxy', 'sluice'];
const MB = 1024 * 1024;

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The `num_connects` values curl wrote to stderr through the write-out `%{stderr}` switch. */
function numConnects(r: CurlResult): number[] {
  return [...r.stderr.matchAll(/\[num_connects=(\d+)\]/g)].map((m) => Number(m[1]));
}

describe('curl through sluice to nginx', { skip: skipUnless('haproxy', 'nginx', 'curl') }, () => {
  let pair: ReferencePair;
  let nginx: NginxHandle;
  let origin: Origin;
  let files: string;
  const big = randomBytes(10 * MB);
  const upload = randomBytes(MB);
  const small = randomBytes(2048);

  before(async () => {
    files = makeTempDir('sluice-interop-files-');
    const root = path.join(files, 'www');
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(root, 'big.bin'), big);
    fs.writeFileSync(path.join(files, 'upload.bin'), upload);
    fs.writeFileSync(path.join(files, 'small.bin'), small);
    // nginx cannot hash a request body itself: /upload hands it to an echo origin, which reports
    // the length and hash of what it received.
    origin = await startOrigin('echo-behind-nginx');
    nginx = await startNginx({
      root,
      config: `        add_header X-Server nginx always;
        location /upload {
            client_max_body_size 20m;
            proxy_http_version 1.1;
            proxy_pass http://127.0.0.1:${origin.port};
        }
`,
    });
    pair = await startReferencePair(CONFIG, { values: { nginx: nginx.port } });
  });

  after(async () => {
    await pair?.stop();
    await nginx?.stop();
    await origin?.close();
    if (files) fs.rmSync(files, { recursive: true, force: true });
  });

  const url = (kind: ProxyKind, p: string): string => `http://127.0.0.1:${pair[kind].port('fe')}${p}`;

  test('GET', async () => {
    for (const kind of SIDES) {
      const r = await curl([url(kind, '/hello')]);
      assert.equal(r.exitCode, 0, `${kind}: ${r.stderr}`);
      assert.equal(r.status, 200, kind);
      assert.equal(r.text, 'hello\n', kind);
      assert.equal(r.header('x-server'), 'nginx', kind);
    }
  });

  test('POST of a 1 MB file with --data-binary', async () => {
    for (const kind of SIDES) {
      const r = await curl(['--data-binary', `@${path.join(files, 'upload.bin')}`, '-H', 'Content-Type: application/octet-stream', url(kind, '/upload?echo=1')]);
      assert.equal(r.exitCode, 0, `${kind}: ${r.stderr}`);
      assert.equal(r.status, 200, kind);
      const e = JSON.parse(r.text) as EchoReport;
      assert.equal(e.method, 'POST', kind);
      assert.equal(e.bodyLength, MB, kind);
      assert.equal(e.bodySha256, sha256(upload), kind);
    }
  });

  test('several URLs on one curl command share one connection', async () => {
    for (const kind of SIDES) {
      const u = url(kind, '/hello');
      const r = await curl([u, u, u, '-o', '/dev/null', '-o', '/dev/null', '-w', '%{http_code} %{http_version} %{stderr}[num_connects=%{num_connects}]\n']);
      assert.equal(r.exitCode, 0, `${kind}: ${r.stderr}`);
      assert.equal(r.status, 200, kind);
      assert.equal(r.text, 'hello\n', kind);
      assert.deepEqual(numConnects(r), [1, 0, 0], `${kind}: ${r.stderr}`);
      assert.equal((r.rawHeaders.match(/^HTTP\/1\.1 200/gm) ?? []).length, 3, `${kind}: ${r.rawHeaders}`);
    }
  });

  test('HTTP/1.0 (curl -0)', async () => {
    for (const kind of SIDES) {
      const r = await curl(['-0', url(kind, '/hello')]);
      assert.equal(r.exitCode, 0, `${kind}: ${r.stderr}`);
      assert.equal(r.status, 200, kind);
      assert.equal(r.text, 'hello\n', kind);
      const big10 = await curl(['-0', url(kind, '/big.bin')], { timeoutMs: 30000 });
      assert.equal(big10.exitCode, 0, `${kind}: ${big10.stderr}`);
      assert.equal(sha256(big10.body), sha256(big), `${kind}: HTTP/1.0 download of ${big10.body.length} bytes`);
    }
  });

  test('Expect: 100-continue with a body over 1024 bytes: the 100 comes through', async () => {
    for (const kind of SIDES) {
      // curl sends Expect by default for bodies over 1024 bytes; the header is set explicitly so
      // that the check does not depend on the curl version, and the wait for a 100 is long enough
      // that a 100 which never comes shows as its absence rather than as a slow success.
      const r = await curl([
        '--data-binary', `@${path.join(files, 'small.bin')}`,
        '-H', 'Expect: 100-continue',
        '--expect100-timeout', '8',
        url(kind, '/upload?echo=1'),
      ]);
      assert.equal(r.exitCode, 0, `${kind}: ${r.stderr}`);
      assert.match(r.rawHeaders, /^HTTP\/1\.1 100 Continue\r?$/m, `${kind}: ${r.rawHeaders}`);
      assert.equal(r.status, 200, kind);
      const e = JSON.parse(r.text) as EchoReport;
      assert.equal(e.bodyLength, small.length, kind);
      assert.equal(e.bodySha256, sha256(small), kind);
    }
  });

  test('a 10 MB response downloaded whole', async () => {
    for (const kind of SIDES) {
      const r = await curl([url(kind, '/big.bin')], { timeoutMs: 30000 });
      assert.equal(r.exitCode, 0, `${kind}: ${r.stderr}`);
      assert.equal(r.status, 200, kind);
      assert.equal(r.header('content-length'), String(big.length), kind);
      assert.equal(r.body.length, big.length, kind);
      assert.equal(sha256(r.body), sha256(big), kind);
    }
  });

  test('HEAD of the 10 MB file (curl -I): its length, no body', async () => {
    for (const kind of SIDES) {
      // With -I curl writes the headers where the body would go: no 10 MB follow them.
      const r = await curl(['-I', url(kind, '/big.bin')]);
      assert.equal(r.exitCode, 0, `${kind}: ${r.stderr}`);
      assert.equal(r.status, 200, kind);
      assert.ok(r.body.length < 1000, `${kind}: ${r.body.length} bytes after the head`);
      assert.equal(r.header('content-length'), String(big.length), `${kind}: ${r.rawHeaders}`);
    }
  });
});
