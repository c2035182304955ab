import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDiagnostic, loadConfig } from '../../../src/config/index.js';
import { fakeResolver } from './util.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sluice-load-'));
}

test('a directory contributes its *.cfg files in lexical order', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, '20-backend.cfg'), 'backend b\n    server s 127.0.0.1:80\n');
  writeFileSync(join(dir, '10-defaults.cfg'), 'defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n');
  writeFileSync(join(dir, '30-frontend.cfg'), 'frontend f\n    bind :8080\n    default_backend b\n');
  writeFileSync(join(dir, '.hidden.cfg'), 'this is not parsed\n');
  writeFileSync(join(dir, 'notes.txt'), 'neither is this\n');
  writeFileSync(join(dir, 'old.cfg.bak'), 'nor this\n');
  mkdirSync(join(dir, 'sub.cfg'));
  const extra = join(tempDir(), 'global.cfg');
  writeFileSync(extra, 'global\n    maxconn 100\n');
  const r = await loadConfig([extra, dir], { env: {}, resolve: fakeResolver });
  assert.deepEqual(r.diagnostics, []);
  assert.ok(r.config);
  assert.deepEqual(r.config.files, [extra, `${dir}/10-defaults.cfg`, `${dir}/20-backend.cfg`, `${dir}/30-frontend.cfg`]);
  assert.deepEqual(r.config.proxies.map((p) => [p.name, p.mode, p.loc.file]), [
    ['b', 'http', `${dir}/20-backend.cfg`],
    ['f', 'http', `${dir}/30-frontend.cfg`],
  ]);
  assert.equal(r.config.global.maxconn, 100);
});

test('missing files', async () => {
  const r = await loadConfig(['/nonexistent/sluice.cfg']);
  assert.equal(r.config, undefined);
  assert.deepEqual(
    r.diagnostics.map((d) => formatDiagnostic(d, 1)),
    ['[ALERT]    (1) : config : Cannot open configuration file/directory /nonexistent/sluice.cfg : No such file or directory'],
  );
});

test('errors name the file they come from', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.cfg'), 'global\n    daemon\n');
  writeFileSync(join(dir, 'b.cfg'), 'global\n    bogus\n');
  const r = await loadConfig([dir], { env: {} });
  assert.deepEqual(
    r.diagnostics.map((d) => formatDiagnostic(d, 1)),
    [
      `[ALERT]    (1) : config : parsing [${dir}/b.cfg:2] : unknown keyword 'bogus' in 'global' section`,
      `[ALERT]    (1) : config : Error(s) found in configuration file : ${dir}/b.cfg`,
      '[ALERT]    (1) : config : Fatal errors found in configuration.',
    ],
  );
});

test('the result is deeply frozen', async () => {
  const dir = tempDir();
  const f = join(dir, 'x.cfg');
  writeFileSync(f, 'global\n    log stdout local0\ndefaults\n    mode http\nbackend b\n    server s 127.0.0.1:80 check\n');
  const r = await loadConfig([f], { env: {}, resolve: fakeResolver });
  const cfg = r.config;
  assert.ok(cfg);
  assert.ok(Object.isFrozen(cfg));
  assert.ok(Object.isFrozen(cfg.global.logs[0]));
  assert.ok(Object.isFrozen(cfg.global.tune));
  assert.ok(Object.isFrozen(cfg.proxies));
  assert.ok(Object.isFrozen(cfg.proxies[0].servers[0].addr));
  assert.ok(Object.isFrozen(cfg.proxies[0].servers[0].rawArgs));
  assert.ok(Object.isFrozen(cfg.proxies[0].options));
  assert.throws(() => {
    (cfg.proxies[0] as { name: string }).name = 'x';
  }, TypeError);
  assert.throws(() => {
    (cfg.proxies as unknown as unknown[]).push(1);
  }, TypeError);
});

test('environment defaults to process.env and is never modified', async () => {
  const dir = tempDir();
  const f = join(dir, 'x.cfg');
  writeFileSync(f, 'global\n    setenv SLUICE_TEST_SET 1\n    log-tag "$SLUICE_TEST_TAG"\n');
  process.env.SLUICE_TEST_TAG = 'from-env';
  try {
    const r = await loadConfig([f]);
    assert.equal(r.config?.global.logTag, 'from-env');
    assert.equal(process.env.SLUICE_TEST_SET, undefined);
  } finally {
    delete process.env.SLUICE_TEST_TAG;
  }
});

test('relative error files follow default-path', async () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'errors'));
  writeFileSync(join(dir, 'errors', '503.http'), 'HTTP/1.0 503 Service Unavailable\r\n\r\n');
  const f = join(dir, 'x.cfg');
  writeFileSync(f, 'global\n    default-path config\ndefaults\n    mode http\n    errorfile 503 errors/503.http\nbackend b\n');
  const r = await loadConfig([f], { env: {} });
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.config?.proxies[0].errorfiles.get(503)?.toString(), 'HTTP/1.0 503 Service Unavailable\r\n\r\n');
});
