import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HTTP_CLF_LOG_FORMAT, HTTP_LOG_FORMAT, TCP_LOG_FORMAT, parseConfigText, type ProxyConfig } from '../../../src/config/index.js';
import { FILE, PREAMBLE, alertAt, lines, ok, parse, warningAt } from './util.js';

/** Parses PREAMBLE + a listen section with `body`, returns the listen proxy. */
async function listen(body: string): Promise<ProxyConfig> {
  const cfg = await ok(`${PREAMBLE}listen l\n    bind :8080\n${body}\n    server s 127.0.0.1:80\n`);
  return cfg.proxies[0];
}

/** Diagnostics (without the closing lines) for a listen section with `body` at line 8. */
async function listenDiags(body: string): Promise<string[]> {
  const r = await parse(`${PREAMBLE}listen l\n    bind :8080\n${body}\n    server s 127.0.0.1:80\n`);
  return lines(r).filter((l) => !l.includes('Error(s) found') && !l.includes('Fatal errors'));
}

test('mode, disabled, enabled, id', async () => {
  assert.equal((await listen('    mode tcp')).mode, 'tcp');
  assert.equal((await listen('')).mode, 'http');
  assert.equal((await listen('    disabled')).disabled, true);
  assert.equal((await listen('    disabled\n    enabled')).disabled, false);
  assert.equal((await listen('    id 42')).id, 42);
  assert.deepEqual(await listenDiags('    mode health'), [
    alertAt(8, "'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead."),
  ]);
  assert.deepEqual(await listenDiags('    mode udp'), [alertAt(8, "unknown proxy mode 'udp'.")]);
  assert.deepEqual(await listenDiags('    id 0'), [`[ALERT]    (1) : config : parsing [${FILE}:8]: custom id has to be > 0.`]);
});

test('proxy ids follow declaration order and skip forced ones', async () => {
  const cfg = await ok(`${PREAMBLE}backend a\nbackend b\n    id 1\nbackend c\nfrontend d\n    bind :80\n    id 3\n    default_backend a\n`);
  assert.deepEqual(
    cfg.proxies.map((p) => [p.name, p.id]),
    [['a', 2], ['b', 1], ['c', 4], ['d', 3]],
  );
});

test('timeouts', async () => {
  const p = await listen(`    timeout http-request 10s
    timeout http-keep-alive 2s
    timeout queue 3s
    timeout tunnel 1h
    timeout client-fin 1s
    timeout server-fin 2s
    timeout check 500ms
    timeout tarpit 4s`);
  assert.deepEqual(p.timeouts, {
    connect: 5000,
    client: 30000,
    server: 30000,
    httpRequest: 10000,
    httpKeepAlive: 2000,
    queue: 3000,
    tunnel: 3600000,
    clientFin: 1000,
    serverFin: 2000,
    check: 500,
    tarpit: 4000,
  });
  // queue and tarpit default to the connect timeout; 0 means no timeout.
  const q = await listen('    timeout client 0');
  assert.equal(q.timeouts.queue, 5000);
  assert.equal(q.timeouts.tarpit, 5000);
  assert.equal(q.timeouts.client, undefined);
});

test('timeout errors and warnings', async () => {
  const cases: Array<[string, string[]]> = [
    ['    timeout foo 1s', [alertAt(8, "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got 'foo')")]],
    ['    timeout client', [alertAt(8, "'timeout client' expects an integer value (in milliseconds)")]],
    ['    timeout client 1x', [alertAt(8, "unexpected character 'x' in 'timeout client'")]],
    ['    timeout client 25d', [alertAt(8, "timer overflow in argument '25d' to 'timeout client' (maximum value is 2147483647 ms or ~24.8 days)")]],
    ['    timeout client 1s 2s', [alertAt(8, "'timeout client' : unexpected extra argument '2s' after value '1s'.")]],
    ['    timeout client 1s\n    timeout client 2s', [warningAt(9, "overwriting 'timeout client' which was already specified")]],
    ['    contimeout 5s', [alertAt(8, "the 'contimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout connect'.")]],
    ['    srvtimeout 5s', [alertAt(8, "the 'srvtimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout server'.")]],
  ];
  for (const [body, expected] of cases) assert.deepEqual(await listenDiags(body), expected, body);
  const r = await parse(`${PREAMBLE}backend b\n    timeout client 1s\n`);
  assert.deepEqual(lines(r), [warningAt(7, "'timeout client' will be ignored because backend 'b' has no frontend capability")]);
});

test('maxconn, fullconn, retries, http-reuse', async () => {
  const p = await listen('    maxconn 100\n    fullconn 50\n    retries 5\n    http-reuse always');
  assert.equal(p.maxconn, 100);
  assert.equal(p.fullconn, 50);
  assert.equal(p.retries, 5);
  assert.equal(p.httpReuse, 'always');
  const d = await listen('');
  assert.equal(d.retries, 3);
  assert.equal(d.httpReuse, 'safe');
  assert.equal(d.maxconn, 0);
  assert.deepEqual(await listenDiags('    http-reuse sometimes'), [alertAt(8, "'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.")]);
  assert.deepEqual(await listenDiags('    retries'), [alertAt(8, "'retries' expects an integer argument (dispatch counts for one).")]);
  const r = await parse(`${PREAMBLE}backend b\n    maxconn 10\nfrontend f\n    bind :80\n    fullconn 10\n    default_backend b\n`);
  assert.deepEqual(lines(r), [
    warningAt(7, "'maxconn' ignored because backend 'b' has no frontend capability. Maybe you want 'fullconn' instead ?"),
    warningAt(10, "'fullconn' ignored because frontend 'f' has no backend capability. Maybe you want 'maxconn' instead ?"),
  ]);
});

test('balance algorithms', async () => {
  const cases: Array<[string, unknown]> = [
    ['', { algo: 'roundrobin' }],
    ['balance', { algo: 'roundrobin' }],
    ['balance roundrobin', { algo: 'roundrobin' }],
    ['balance static-rr', { algo: 'static-rr' }],
    ['balance leastconn', { algo: 'leastconn' }],
    ['balance first', { algo: 'first' }],
    ['balance source', { algo: 'source' }],
    ['balance uri', { algo: 'uri', len: 0, depth: 0, whole: false, pathOnly: false }],
    ['balance uri len 12 depth 3 whole path-only', { algo: 'uri', len: 12, depth: 3, whole: true, pathOnly: true }],
    ['balance url_param userid', { algo: 'url_param', param: 'userid', checkPost: false }],
    ['balance url_param userid check_post', { algo: 'url_param', param: 'userid', checkPost: true }],
    ['balance hdr(Host)', { algo: 'hdr', header: 'Host', useDomainOnly: false }],
    ['balance hdr(host) use_domain_only', { algo: 'hdr', header: 'host', useDomainOnly: true }],
    ['balance random', { algo: 'random', draws: 2 }],
    ['balance random(5)', { algo: 'random', draws: 5 }],
  ];
  for (const [line, expected] of cases) assert.deepEqual((await listen(`    ${line}`)).balance, expected, line);
});

test('balance and hash-type errors', async () => {
  const cases: Array<[string, string]> = [
    ['balance magic', "balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options."],
    ['balance uri len 0', "balance uri : 'len' expects a positive integer (got '0')."],
    ['balance uri foo', "balance uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got 'foo')."],
    ['balance url_param', 'balance url_param requires an URL parameter name.'],
    ['balance url_param x y', "balance url_param only accepts 'check_post' modifier (got 'y')."],
    ['balance hdr()', 'balance hdr requires an http header field name.'],
    ['balance random(0)', 'balance random : number of draws must be at least 1.'],
    ['balance random(2', 'balance random : missing closing parenthesis.'],
    ['balance random(2x)', "balance random : unexpected character 'x' after argument."],
    ['balance hash req.cookie(id)', "'balance hash' is not supported yet by sluice."],
    ['balance rdp-cookie', "'balance rdp-cookie' is not supported yet by sluice."],
    ['hash-type foo', "'hash-type' only supports 'consistent' and 'map-based'."],
    ['hash-type consistent md5', "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions."],
    ['hash-type consistent sdbm x', "'hash-type' only supports 'avalanche' as a modifier for hash functions."],
  ];
  for (const [line, msg] of cases) assert.deepEqual(await listenDiags(`    ${line}`), [alertAt(8, msg)], line);
});

test('hash-type', async () => {
  assert.deepEqual((await listen('')).hashType, { method: 'map-based', fn: 'sdbm', avalanche: false });
  assert.deepEqual((await listen('    hash-type consistent')).hashType, { method: 'consistent', fn: 'sdbm', avalanche: true });
  assert.deepEqual((await listen('    hash-type map-based')).hashType, { method: 'map-based', fn: 'sdbm', avalanche: false });
  assert.deepEqual((await listen('    hash-type consistent djb2')).hashType, { method: 'consistent', fn: 'djb2', avalanche: false });
  assert.deepEqual((await listen('    hash-type map-based wt6 avalanche')).hashType, { method: 'map-based', fn: 'wt6', avalanche: true });
  assert.deepEqual((await listen('    hash-type consistent none')).hashType, { method: 'consistent', fn: 'none', avalanche: false });
});

test('options', async () => {
  const p = await listen(`    option abortonclose
    option allbackups
    option dontlognull
    option logasap
    option http-buffer-request
    option http-ignore-probes
    option redispatch
    option splice-auto
    option tcpka`);
  const o = p.options;
  assert.equal(o.abortOnClose, true);
  assert.equal(o.allbackups, true);
  assert.equal(o.dontlognull, true);
  assert.equal(o.logasap, true);
  assert.equal(o.httpBufferRequest, true);
  assert.equal(o.httpIgnoreProbes, true);
  assert.equal(o.redispatch, -1);
  assert.equal((await listen('    option redispatch 3')).options.redispatch, 3);
  assert.equal((await listen('    option redispatch\n    no option redispatch')).options.redispatch, undefined);
  assert.equal((await listen('    option logasap\n    no option logasap')).options.logasap, false);
  assert.equal((await listen('    option logasap\n    default option logasap')).options.logasap, false);
});

test('HTTP connection mode options: the last one wins', async () => {
  const mode = async (body: string): Promise<[boolean, boolean, boolean]> => {
    const o = (await listen(body)).options;
    return [o.httpKeepAlive, o.httpServerClose, o.httpClose];
  };
  assert.deepEqual(await mode(''), [false, false, false]);
  assert.deepEqual(await mode('    option httpclose'), [false, false, true]);
  assert.deepEqual(await mode('    option httpclose\n    option http-server-close'), [false, true, false]);
  assert.deepEqual(await mode('    option http-server-close\n    option http-keep-alive'), [true, false, false]);
  assert.deepEqual(await mode('    option httpclose\n    no option http-server-close'), [false, false, true]);
  assert.deepEqual(await mode('    option httpclose\n    no option httpclose'), [false, false, false]);
});

test('option forwardfor', async () => {
  assert.deepEqual((await listen('    option forwardfor')).options.forwardfor, { header: 'X-Forwarded-For', ifNone: false });
  assert.deepEqual((await listen('    option forwardfor except 127.0.0.0/8 header X-Client if-none')).options.forwardfor, {
    header: 'X-Client',
    ifNone: true,
    except: { addr: '127.0.0.0', prefix: 8, family: 4 },
  });
  assert.deepEqual((await listen('    option forwardfor except 10.1.2.3/255.255.0.0')).options.forwardfor?.except, {
    addr: '10.1.0.0',
    prefix: 16,
    family: 4,
  });
  assert.deepEqual((await listen('    option forwardfor except 2001:db8::1/32')).options.forwardfor?.except, {
    addr: '2001:db8::',
    prefix: 32,
    family: 6,
  });
  assert.deepEqual(await listenDiags('    option forwardfor except'), [alertAt(8, "'option forwardfor except' expects <address>[/mask] as argument.")]);
  assert.deepEqual(await listenDiags('    option forwardfor header'), [alertAt(8, "'option forwardfor header' expects <header_name> as argument.")]);
  assert.deepEqual(await listenDiags('    option forwardfor foo'), [alertAt(8, "'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'.")]);
  assert.deepEqual(await listenDiags('    no option forwardfor'), [`[ALERT]    (1) : config : parsing [${FILE}:8]: negation/default is not supported for option 'forwardfor'.`]);
});

test('option errors', async () => {
  const pfx = `[ALERT]    (1) : config : parsing [${FILE}:8]: `;
  const cases: Array<[string, string]> = [
    ['option', `${pfx}'option' expects an option name.`],
    ['option ssl-hello-chk', alertAt(8, "'option ssl-hello-chk' is not supported yet by sluice.")],
    ['option forceclose', `${pfx}option 'forceclose' is not supported any more since HAProxy 2.0, please just remove it, or use 'option httpclose' if absolutely needed.`],
    ['option http-tunnel', `${pfx}option 'http-tunnel' is not supported any more since HAProxy 2.1, please just remove it, it shouldn't be needed.`],
    ['option htplog', alertAt(8, "unknown option 'htplog'; did you mean 'httplog' maybe ?")],
    ['option xyzzyq', alertAt(8, "unknown option 'xyzzyq'.")],
    ['option logasap now', alertAt(8, "'option logasap' cannot handle unexpected argument 'now'.")],
    ['default option httpclose', `${pfx}negation/default is not supported for option 'httpclose'.`],
    ['no option httplog', `${pfx}negation/default is not supported for option 'httplog'.`],
    ['no mode', `${pfx}negation/default currently supported only for options, log, busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.`],
  ];
  for (const [line, msg] of cases) assert.deepEqual(await listenDiags(`    ${line}`), [msg], line);
  const r = await parse(`${PREAMBLE}frontend f\n    bind :80\n    option allbackups\n    option redispatch\n`);
  assert.deepEqual(lines(r), [
    warningAt(8, "'allbackups' ignored because frontend 'f' has no backend capability."),
    warningAt(9, "'redispatch' ignored because frontend 'f' has no backend capability."),
  ]);
});

test('traffic log formats', async () => {
  assert.equal((await listen('')).logFormat, undefined);
  const h = await listen('    log global\n    option httplog');
  assert.equal(h.logFormat, HTTP_LOG_FORMAT);
  assert.equal(h.options.httplog, true);
  const c = await listen('    option httplog clf');
  assert.equal(c.logFormat, HTTP_CLF_LOG_FORMAT);
  assert.equal(c.options.httplogClf, true);
  const t = await listen('    option tcplog');
  assert.equal(t.logFormat, TCP_LOG_FORMAT);
  assert.equal(t.options.tcplog, true);
  assert.equal((await listen('    option httplog\n    log-format "%ci %ST"')).logFormat, '%ci %ST');
  assert.equal((await listen('    log-format "${HAPROXY_HTTP_LOG_FMT} x"')).logFormat, `${HTTP_LOG_FORMAT} x`);
  assert.deepEqual(await listenDiags('    option httplog foo'), [alertAt(8, "keyword 'httplog' only supports option 'clf'.")]);
  assert.deepEqual(await listenDiags('    log-format a b'), [alertAt(8, "log-format expects only one argument, don't forget to escape spaces!")]);
  assert.deepEqual(await listenDiags('    log-format-sd x'), [alertAt(8, "'log-format-sd' is not supported yet by sluice.")]);
  // TCP proxies fall back to the TCP format, as HAProxy does.
  const r = await parse(`${PREAMBLE}listen l\n    mode tcp\n    bind :80\n    log stdout local0\n    option httplog\n    server s 127.0.0.1:80\n`);
  assert.equal(r.config?.proxies[0].logFormat, TCP_LOG_FORMAT);
  assert.deepEqual(lines(r), [
    warningAt(10, "'option httplog' not usable with proxy 'l' (needs 'mode http'). Falling back to 'option tcplog'."),
  ]);
  const b = await parse(`${PREAMBLE}backend b\n    option httplog\n`);
  assert.deepEqual(lines(b), [warningAt(7, "backend 'b' : 'option httplog' directive is ignored in backends.")]);
  const d = await parse(`${PREAMBLE}    option httplog\n    option tcplog\n`);
  assert.deepEqual(lines(d), [`[WARNING]  (1) : config : parsing [${FILE}:7]: 'option tcplog' overrides previous 'option httplog' in 'defaults' section.`]);
});

test('proxy log targets: log global, no log, inheritance', async () => {
  const cfg = await ok(`global
    log 127.0.0.1:514 local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 1s
    timeout server 1s
listen a
    bind :80
    server s 127.0.0.1:80
listen b
    bind :81
    no log
    log stdout format raw daemon
    server s 127.0.0.1:80
`);
  const [a, b] = cfg.proxies;
  assert.equal(a.logs.length, 1);
  assert.equal(a.logs[0].host, '127.0.0.1');
  assert.equal(a.logs[0].facility, 16);
  assert.deepEqual(a.logs[0].loc, { file: FILE, line: 5 });
  assert.deepEqual(b.logs.map((l) => l.kind), ['stdout']);
  const r = await parse(`${PREAMBLE}listen l\n    bind :80\n    no log x\n`);
  assert.deepEqual(lines(r).slice(0, 1), [alertAt(8, "log : 'no log' does not expect arguments")]);
});

test('default_backend and use_backend', async () => {
  const cfg = await ok(`${PREAMBLE}frontend f
    bind :80
    use_backend b1
    use_backend b2
    default_backend b1
backend b1
backend b2
`);
  const f = cfg.proxies[0];
  assert.equal(f.defaultBackend, 'b1');
  assert.deepEqual(f.useBackends.map((u) => [u.backend, u.loc.line]), [['b1', 8], ['b2', 9]]);
  const r = await parse(`${PREAMBLE}frontend f\n    bind :80\n    use_backend b if nosuchacl\n    use_backend b when x\n    use_backend\nbackend b\n`);
  assert.deepEqual(lines(r).slice(0, 3), [
    alertAt(8, "error detected while parsing switching rule : no such ACL : 'nosuchacl'."),
    alertAt(9, "unexpected keyword 'when' after switching rule, only 'if' and 'unless' are allowed."),
    alertAt(10, "'use_backend' expects a backend name."),
  ]);
});

test('unknown and unsupported proxy keywords', async () => {
  const cases: Array<[string, string]> = [
    ['balanse roundrobin', "unknown keyword 'balanse' in 'listen' section; did you mean 'balance' maybe ?"],
    ['frobnicate 1', "unknown keyword 'frobnicate' in 'listen' section"],
    ['compression algo gzip', "'compression' is not supported yet by sluice."],
    ['stats enable', "'stats enable' is not supported yet by sluice."],
    ['http-response cache-store c', "'http-response cache-store' is not supported yet by sluice."],
    ['tcp-request content accept', "'tcp-request content' is not supported yet by sluice."],
    ['redirect scheme https', "'redirect' is not supported yet by sluice."],
    ['reqadd X-Foo:\\ bar', "The 'reqadd' directive is not supported anymore since HAProxy 2.1. Use 'http-request add-header' instead."],
    ['block if TRUE', "The 'block' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax."],
    ['redispatch', "keyword 'redispatch' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'."],
  ];
  for (const [line, msg] of cases) assert.deepEqual(await listenDiags(`    ${line}`), [alertAt(8, msg)], line);
  assert.deepEqual(await listenDiags('    backlog 1000\n    srvtcpka-idle 30s'), []);
});

test('acl lines are kept in order with their words and place, for the ACL engine', async () => {
  const { config, diagnostics } = await parseConfigText(
    `defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend f
    bind 127.0.0.1:8080
    acl is_api path_beg /api /v2
    acl is_api hdr(host) -i api.example.com
    default_backend b
backend b
    server s 127.0.0.1:1
`,
    'acl.cfg',
  );
  assert.ok(config, diagnostics.map((d) => d.message).join('\n'));
  assert.deepEqual(
    config.proxies[0]!.acls.map((a) => [a.name, a.args, a.loc.line]),
    [
      ['is_api', ['path_beg', '/api', '/v2'], 8],
      ['is_api', ['hdr(host)', '-i', 'api.example.com'], 9],
    ],
  );
});
