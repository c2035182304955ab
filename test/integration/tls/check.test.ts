// `-c` on the TLS and HTTP/2 keywords of `bind` and `global` (issue #4, client half): missing or
// broken certificate files, keys that do not match, bad ALPN, version, verify, cipher and proto
// values, crt-list errors, impossible version ranges, and the tune.h2.* range checks; plus
// configurations haproxy accepts and sluice must accept too. Each case runs `haproxy -c` on the
// same file: its [ALERT] (and [WARNING]) lines must come out of sluice as well, pid and
// configuration file name masked, with the same exit code.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { makeCa, runCheck, skipUnless, type TestCa } from '../../harness/index.js';

/** Files the cases refer to, made once by `before`. */
interface Paths {
  ca: TestCa;
  /** Certificate and key in one PEM. */
  a: string;
  /** Certificate alone, key in FILE.key. */
  split: string;
  /** Certificate alone, no FILE.key. */
  nokey: string;
  /** Certificate of `a` with the key of another one. */
  mismatch: string;
  garbage: string;
  keyonly: string;
  expired: string;
  list: string;
  cafile: string;
  dir: string;
}

let P: Paths;

before(() => {
  const ca = makeCa();
  const a = ca.issue('a', { sans: ['a.test'] });
  const b = ca.issue('b', { sans: ['b.test'] });
  const old = ca.issue('old', { sans: ['old.test'], expired: true });
  ca.write('dir/a.pem', a.combined);
  ca.write('dir/b.pem', b.combined);
  P = {
    ca,
    a: a.pemFile,
    split: a.certFile,
    nokey: ca.write('nokey/a.pem', a.cert),
    mismatch: ca.write('mismatch.pem', a.cert + b.key),
    garbage: ca.write('garbage.pem', 'not a certificate\n'),
    keyonly: ca.write('keyonly.pem', a.key),
    expired: old.pemFile,
    list: ca.write('list.txt', `${a.pemFile} a.test\n${b.pemFile} [ssl-min-ver TLSv1.2 ciphers ECDHE-ECDSA-AES128-GCM-SHA256] b.test !x.b.test\n`),
    cafile: ca.certFile,
    dir: `${ca.dir}/dir`,
  };
});

/** A whole configuration: `global` lines, then the frontend's bind options (line 9 is the bind). */
function cfg(bind: string, global = ''): string {
  return `global
${global}
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:1 ${bind}
    default_backend be
backend be
    server s1 127.0.0.1:2
`;
}

/** [ALERT] and [WARNING] lines (without the final summary alerts), pid and config path masked. */
function diags(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => /^\[(ALERT|WARNING)\]/.test(l) && !/Error\(s\) found in configuration file|Fatal errors found in configuration/.test(l))
    .map((l) => l.replace(/\(\d+\)/, '(PID)').replaceAll(/[^\s[(']*(haproxy|sluice)\.cfg/g, 'CFG'));
}

const strip = (l: string): string => l.replace(/^\[(ALERT|WARNING)\] +\(PID\) : config : /, '');

interface Case {
  name: string;
  /** The configuration, built once the files exist. */
  config(p: Paths): string;
  /** null: the configuration is valid (exit 0); otherwise an alert to find (text after "config : "). */
  alert: RegExp | null;
  /** A warning to find (text after "config : "). */
  warning?: RegExp;
  todo?: string;
  noReference?: string;
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** "parsing [CFG:9] : 'bind 127.0.0.1:1' in section 'frontend' : " then `rest`. */
const onBind = (rest: string): RegExp => new RegExp(`^parsing \\[CFG:9\\] : 'bind 127\\.0\\.0\\.1:1' in section 'frontend' : ${rest}$`);
const proxyBind = (rest: string): RegExp => new RegExp(`^Proxy 'fe': ${rest} for bind '127\\.0\\.0\\.1:1' at \\[CFG:9\\]\\.$`);

const CASES: Case[] = [
  // ---- valid configurations ----
  {
    name: 'every bind keyword together is valid',
    config: (p) => cfg(`ssl crt ${p.a} crt-list ${p.list} alpn h2,http/1.1 ciphers ECDHE-ECDSA-AES128-GCM-SHA256 ciphersuites TLS_AES_128_GCM_SHA256 curves X25519:P-256 ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.3 ca-file ${p.cafile} verify optional strict-sni no-tls-tickets prefer-client-ciphers`),
    alert: null,
  },
  { name: 'crt FILE with FILE.key next to it', config: (p) => cfg(`ssl crt ${p.split}`), alert: null },
  { name: 'crt DIR', config: (p) => cfg(`ssl crt ${p.dir}`), alert: null },
  { name: 'an expired certificate is accepted', config: (p) => cfg(`ssl crt ${p.expired}`), alert: null },
  { name: 'crt without ssl is accepted', config: (p) => cfg(`crt ${p.a}`), alert: null },
  { name: 'proto h2 on a TLS bind', config: (p) => cfg(`ssl crt ${p.a} proto h2`), alert: null },
  { name: 'force-tlsv12', config: (p) => cfg(`ssl crt ${p.a} force-tlsv12`), alert: null },
  { name: 'no-sslv3 and no-tlsv1x flags', config: (p) => cfg(`ssl crt ${p.a} no-sslv3 no-tlsv10 no-tlsv11`), alert: null },
  {
    name: 'tune.h2.* within their ranges',
    config: () => cfg('', '    tune.h2.header-table-size 65536\n    tune.h2.initial-window-size 1048576\n    tune.h2.max-concurrent-streams 0\n    tune.h2.max-frame-size 16384'),
    alert: null,
  },
  {
    name: 'crt-base: a relative crt path is read from it',
    config: (p) => cfg('ssl crt a.pem', `    crt-base ${p.ca.dir}`),
    alert: null,
  },
  {
    name: 'ssl-min-ver SSLv3 is a known version',
    config: (p) => cfg(`ssl crt ${p.a} ssl-min-ver SSLv3`),
    alert: null,
  },
  {
    name: "alpn ',' is accepted",
    config: (p) => cfg(`ssl crt ${p.a} alpn ,`),
    alert: null,
  },

  // ---- certificates ----
  {
    name: 'missing crt file',
    config: () => cfg('ssl crt /nonexistent/site.pem'),
    alert: onBind(esc("unable to stat SSL certificate from file '/nonexistent/site.pem' : No such file or directory.")),
  },
  {
    name: 'certificate without key (no FILE.key)',
    config: (p) => cfg(`ssl crt ${p.nokey}`),
    alert: onBind(`No Private Key found in '.*/nokey/a\\.pem\\.key'\\.`),
  },
  {
    name: 'key not matching the certificate',
    config: (p) => cfg(`ssl crt ${p.mismatch}`),
    alert: onBind(`inconsistencies between private key and certificate loaded '.*/mismatch\\.pem'\\.`),
  },
  { name: 'a file that is no certificate', config: (p) => cfg(`ssl crt ${p.garbage}`), alert: onBind(`unable to load certificate from file '.*/garbage\\.pem'\\.`) },
  { name: 'a file holding only a key', config: (p) => cfg(`ssl crt ${p.keyonly}`), alert: onBind(`unable to load certificate from file '.*/keyonly\\.pem'\\.`) },
  { name: 'crt without a value', config: () => cfg('ssl crt'), alert: onBind(esc("'crt' : missing certificate location")) },
  {
    name: 'ssl without crt',
    config: () => cfg('ssl'),
    alert: /^Proxy 'fe': no SSL certificate specified for bind '127\.0\.0\.1:1' at \[CFG:9\] \(use 'crt'\)\.$/,
  },
  {
    name: 'crt-list file missing',
    config: () => cfg('ssl crt-list /nonexistent/list'),
    alert: onBind(esc("'crt-list' : cannot open file '/nonexistent/list' : No such file or directory")),
  },
  {
    name: 'crt-list naming a missing certificate',
    config: (p) => cfg(`ssl crt-list ${p.ca.write('list-missing.txt', '/nonexistent/x.pem a.test\n')}`),
    alert: onBind(esc("'crt-list' : unable to stat SSL certificate from file '/nonexistent/x.pem' : No such file or directory.")),
  },
  {
    name: 'crt-list line with an unknown keyword',
    config: (p) => cfg(`ssl crt-list ${p.ca.write('list-kw.txt', `${p.a} [frobnicate 1] a.test\n`)}`),
    alert: onBind(`'crt-list' : parsing \\[.*/list-kw\\.txt:1\\]: unknown ssl keyword frobnicate`),
  },
  {
    name: 'crt-list line with an unknown ssl version',
    config: (p) => cfg(`ssl crt-list ${p.ca.write('list-ver.txt', `${p.a} [ssl-min-ver TLSv9] a.test\n`)}`),
    alert: onBind(esc("'crt-list' : 'TLSv9' : unknown ssl/tls version")),
  },

  // ---- alpn, proto ----
  { name: 'alpn without a value', config: (p) => cfg(`ssl crt ${p.a} alpn`), alert: onBind(esc("'alpn' : missing the comma-delimited ALPN protocol suite")) },
  { name: 'proto h3', config: () => cfg('proto h3'), alert: onBind(esc("'proto' :  unknown MUX protocol 'h3'")) },
  { name: 'proto without a value', config: () => cfg('proto'), alert: onBind(esc("'proto' : missing value")) },

  // ---- versions ----
  { name: 'unknown ssl version', config: (p) => cfg(`ssl crt ${p.a} ssl-min-ver TLSv1.4`), alert: onBind(esc("'TLSv1.4' : unknown ssl/tls version")) },
  { name: 'ssl-max-ver without a value', config: (p) => cfg(`ssl crt ${p.a} ssl-max-ver`), alert: onBind(esc("'ssl-max-ver' : missing the ssl/tls version")) },
  {
    name: 'ssl-min-ver above ssl-max-ver',
    config: (p) => cfg(`ssl crt ${p.a} ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.2`),
    alert: proxyBind('all SSL/TLS versions are disabled'),
  },
  {
    name: 'no-tlsv12 no-tlsv13 leave no version (the default minimum is TLSv1.2)',
    config: (p) => cfg(`ssl crt ${p.a} no-tlsv12 no-tlsv13`),
    alert: proxyBind('all SSL/TLS versions are disabled'),
  },
  {
    name: 'ssl-min-ver with a no-tlsv1x flag: the flag is ignored, with a warning',
    config: (p) => cfg(`ssl crt ${p.a} ssl-min-ver TLSv1.2 no-tlsv12`),
    alert: null,
    warning: /^Proxy 'fe': no-sslv3\/no-tlsv1x are ignored for bind '127\.0\.0\.1:1' at \[CFG:9\]\. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix\.$/,
  },

  // ---- verify, ca-file ----
  {
    name: 'unknown verify method',
    config: (p) => cfg(`ssl crt ${p.a} verify sometimes`),
    alert: onBind(esc("'verify' : unknown verify method 'sometimes', only 'none', 'optional', and 'required' are supported")),
  },
  { name: 'verify without a value', config: (p) => cfg(`ssl crt ${p.a} verify`), alert: onBind(esc("'verify' : missing verify method")) },
  { name: 'ca-file without a value', config: (p) => cfg(`ssl crt ${p.a} ca-file`), alert: onBind(esc("'ca-file' : missing CAfile path")) },
  {
    name: 'ca-file missing',
    config: (p) => cfg(`ssl crt ${p.a} ca-file /nonexistent/ca.pem verify required`),
    alert: onBind(esc("'ca-file' : unable to load /nonexistent/ca.pem")),
  },
  {
    name: 'verify required without ca-file',
    config: (p) => cfg(`ssl crt ${p.a} verify required`),
    alert: proxyBind('verify is enabled but no CA file specified'),
  },
  {
    name: 'verify optional without ca-file',
    config: (p) => cfg(`ssl crt ${p.a} verify optional`),
    alert: proxyBind('verify is enabled but no CA file specified'),
  },

  // ---- ciphers ----
  {
    name: 'bad ciphers',
    config: (p) => cfg(`ssl crt ${p.a} ciphers NOPE-CIPHER`),
    alert: proxyBind("unable to set SSL cipher list to 'NOPE-CIPHER'"),
  },
  {
    name: 'bad ciphersuites',
    config: (p) => cfg(`ssl crt ${p.a} ciphersuites NOPE`),
    alert: proxyBind("unable to set TLS 1.3 cipher suites to 'NOPE'"),
  },
  {
    name: 'bad curves',
    config: (p) => cfg(`ssl crt ${p.a} curves nope`),
    alert: proxyBind("unable to set SSL curves list to 'nope'"),
  },

  // ---- tune.h2.* ----
  {
    name: 'tune.h2.header-table-size out of range',
    config: () => cfg('', '    tune.h2.header-table-size 100'),
    alert: /^parsing \[CFG:2\] : 'tune\.h2\.header-table-size' expects a numeric value between 4096 and 65536\.$/,
  },
  {
    name: 'tune.h2.max-frame-size out of range',
    config: () => cfg('', '    tune.h2.max-frame-size 100'),
    alert: /^parsing \[CFG:2\] : 'tune\.h2\.max-frame-size' expects a numeric value between 16384 and 16777215\.$/,
  },
  {
    name: 'tune.h2.max-concurrent-streams negative',
    config: () => cfg('', '    tune.h2.max-concurrent-streams -1'),
    alert: /^parsing \[CFG:2\] : 'tune\.h2\.max-concurrent-streams' expects a positive numeric value\.$/,
  },
  {
    name: 'tune.h2.initial-window-size with two values',
    config: () => cfg('', '    tune.h2.initial-window-size 8192 9'),
    alert: /^parsing \[CFG:2\] : 'tune\.h2\.initial-window-size' cannot handle unexpected argument '9'\.$/,
  },
  {
    name: 'tune.h2.fe.max-concurrent-streams negative',
    config: () => cfg('', '    tune.h2.fe.max-concurrent-streams -1'),
    alert: /^parsing \[CFG:2\] : 'tune\.h2\.fe\.max-concurrent-streams' expects a positive numeric value\.$/,
    noReference: 'haproxy 2.6 has no tune.h2.fe.* keywords (2.8 and later)',
  },
];

const noHaproxy = skipUnless('haproxy');

function check(lines: string[], c: Case, who: string, out: string): void {
  const texts = lines.map(strip);
  if (c.alert !== null) assert.ok(texts.some((l) => c.alert!.test(l)), `${who}: no alert matching ${c.alert}\n${out}`);
  if (c.warning !== undefined) assert.ok(texts.some((l) => c.warning!.test(l)), `${who}: no warning matching ${c.warning}\n${out}`);
}

for (const c of CASES) {
  test(`-c: ${c.name}`, c.todo !== undefined ? { todo: c.todo } : {}, async () => {
    const config = c.config(P);
    const s = await runCheck('sluice', config);
    assert.equal(s.code, c.alert === null ? 0 : 1, `sluice exit code\n${s.stderr}`);
    const sl = diags(s.stderr);
    check(sl, c, 'sluice', s.stderr);
    if (c.noReference !== undefined || noHaproxy !== false) return;
    // Every alert and warning haproxy prints, sluice prints as well.
    const h = await runCheck('haproxy', config);
    for (const l of diags(h.stderr)) assert.ok(sl.includes(l), `haproxy's line is missing:\n  ${l}\nsluice printed:\n  ${sl.join('\n  ')}`);
  });

  // The expectation itself, checked against haproxy so that a wrong one cannot hide behind a todo.
  test(`-c: ${c.name} [haproxy 2.6]`, { skip: c.noReference ?? noHaproxy }, async () => {
    const h = await runCheck('haproxy', c.config(P));
    assert.equal(h.code, c.alert === null ? 0 : 1, h.stderr);
    check(diags(h.stderr), c, 'haproxy', h.stderr);
  });
}
