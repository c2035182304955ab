// HAProxy keywords that sluice recognises without implementing them (yet). A line using one of
// them gets "'<kw>' is not supported yet by sluice" instead of HAProxy's "unknown keyword",
// and they feed the "did you mean" suggestions. Sources: configuration.txt of HAProxy 2.6 and
// 3.x (sections 3, 4.1, 4.3, 5.1, 5.2) and the keyword tables of HAProxy's sources.
//
// A second family is "accepted, no effect": pure tuning knobs that have no meaning in sluice.
// They are listed in docs/configuration.md.

/** The standard wording for recognised but unimplemented features. */
export function notSupportedYet(what: string, plural = false): string {
  return `${what} ${plural ? 'are' : 'is'} not supported yet by sluice.`;
}

// ---------------------------------------------------------------------------------------------
// Sections

/** Section keywords HAProxy knows and sluice does not implement yet. */
export const UNSUPPORTED_SECTIONS = new Set([
  'peers', 'mailers', 'program', 'ring', 'cache', 'log-forward',
  'log-profile', 'fcgi-app', 'namespace_list', 'acme', 'crt-store', 'traces', 'healthcheck',
]);

// ---------------------------------------------------------------------------------------------
// Global section

/** Global keywords accepted with no effect (tuning of things sluice does not have). */
export const GLOBAL_NOOP = new Set([
  'anonkey', 'busy-polling', 'cluster-secret', 'cpu-affinity', 'cpu-map', 'cpu-policy', 'cpu-set',
  'debug.counters', 'description', 'expose-deprecated-directives',
  'expose-experimental-directives', 'external-check', 'fd-hard-limit', 'force-cfg-parser-pause',
  'httpclient.resolvers.disabled', 'httpclient.resolvers.id', 'httpclient.resolvers.prefer',
  'httpclient.retries', 'httpclient.ssl.ca-file', 'httpclient.ssl.verify',
  'httpclient.timeout.connect', 'insecure-fork-wanted', 'insecure-setuid-wanted',
  'issuers-chain-path', 'jwt.decrypt_alg_list', 'jwt.decrypt_enc_list', 'key-base', 'limited-quic',
  'localpeer', 'max-spread-checks', 'max-threads-per-group', 'maxcompcpuusage', 'maxcomprate',
  'maxpipes', 'maxsslconn', 'maxsslrate', 'maxzlibmem', 'no-memory-trimming', 'node', 'noepoll',
  'noevports', 'nogetaddrinfo', 'nokqueue', 'noktls', 'nopoll', 'nosplice', 'numa-cpu-mapping',
  'ocsp-update.disable', 'ocsp-update.httpproxy', 'ocsp-update.maxdelay', 'ocsp-update.mindelay',
  'ocsp-update.mode', 'pp2-never-send-local', 'prealloc-fd', 'profiling.memory', 'profiling.tasks',
  'quiet', 'set-dumpable', 'ssl-engine', 'ssl-load-extra-del-ext',
  'ssl-load-extra-files', 'ssl-mode-async', 'ssl-propquery', 'ssl-provider', 'ssl-provider-path',
  'strict-limits', 'thread-group', 'thread-groups', 'warn-blocked-traffic-after',
]);

/** Global keywords sluice recognises but does not implement yet. */
export const GLOBAL_UNSUPPORTED = new Set([
  '51degrees-allow-unmatched', '51degrees-cache-size', '51degrees-data-file',
  '51degrees-difference', '51degrees-drift', '51degrees-property-name-list',
  '51degrees-property-separator', '51degrees-use-performance-graph',
  '51degrees-use-predictive-graph', 'deviceatlas-json-file', 'deviceatlas-log-level',
  'deviceatlas-properties-cookie', 'deviceatlas-separator', 'dns-accept-family',
  'h1-accept-payload-with-any-method', 'h1-case-adjust', 'h1-case-adjust-file',
  'h1-do-not-close-on-insecure-transfer-encoding', 'h2-workaround-bogus-websocket-clients',
  'harden.reject-privileged-ports.quic', 'harden.reject-privileged-ports.tcp', 'log-send-hostname',
  'lua-load', 'lua-load-per-thread', 'lua-prepend-path', 'maxconnrate', 'maxsessrate',
  'mworker-max-reloads', 'server-state-base', 'server-state-file', 'set-var', 'set-var-fmt',
  'ssl-default-bind-client-sigalgs', 'ssl-default-bind-sigalgs',
  'ssl-default-server-client-sigalgs', 'ssl-default-server-curves', 'ssl-default-server-sigalgs',
  'ssl-dh-param-file', 'ssl-security-level', 'ssl-skip-self-issued-ca', 'stats-file', 'unix-bind',
  'wurfl-cache-size', 'wurfl-data-file', 'wurfl-information-list',
  'wurfl-information-list-separator',
]);

/**
 * Every `tune.*` keyword of HAProxy 2.6 and 3.x. They are accepted with no effect unless an area
 * of sluice registers a real parser for one of them.
 */
export const GLOBAL_TUNE = new Set([
  'tune.applet.zero-copy-forwarding', 'tune.buffers.limit', 'tune.buffers.reserve',
  'tune.bufsize.large', 'tune.bufsize.small', 'tune.cli.max-payload-size', 'tune.comp.maxlevel',
  'tune.defaults.purge', 'tune.disable-fast-forward', 'tune.disable-zero-copy-forwarding',
  'tune.epoll.mask-events', 'tune.events.max-events-at-once', 'tune.fail-alloc',
  'tune.fd.edge-triggered', 'tune.fd.tables', 'tune.h1.be.glitches-threshold',
  'tune.h1.fe.glitches-threshold', 'tune.h1.zero-copy-fwd-recv', 'tune.h1.zero-copy-fwd-send',
  'tune.h2.be.glitches-threshold', 'tune.h2.be.initial-window-size',
  'tune.h2.be.max-concurrent-streams', 'tune.h2.be.max-frames-at-once', 'tune.h2.be.rxbuf',
  'tune.h2.fe.glitches-threshold', 'tune.h2.fe.initial-window-size',
  'tune.h2.fe.max-concurrent-streams', 'tune.h2.fe.max-frames-at-once',
  'tune.h2.fe.max-rst-at-once', 'tune.h2.fe.max-total-streams', 'tune.h2.fe.rxbuf',
  'tune.h2.header-table-size', 'tune.h2.initial-window-size', 'tune.h2.max-concurrent-streams',
  'tune.h2.max-frame-size', 'tune.h2.zero-copy-fwd-send', 'tune.http.cookielen',
  'tune.http.logurilen', 'tune.idle-pool.shared', 'tune.idletimer', 'tune.listener.multi-queue',
  'tune.lua.bool-sample-conversion', 'tune.lua.burst-timeout', 'tune.lua.forced-yield',
  'tune.lua.log.loggers', 'tune.lua.log.stderr', 'tune.lua.maxmem', 'tune.lua.openlibs',
  'tune.lua.service-timeout', 'tune.lua.session-timeout', 'tune.lua.task-timeout',
  'tune.max-checks-per-thread', 'tune.max-rules-at-once', 'tune.maxaccept', 'tune.maxpollevents',
  'tune.memory.hot-size', 'tune.pattern.cache-size', 'tune.peers.max-updates-at-once',
  'tune.pipesize', 'tune.pool-high-fd-ratio', 'tune.pool-low-fd-ratio',
  'tune.pt.zero-copy-forwarding', 'tune.quic.be.cc.cubic-min-losses', 'tune.quic.be.cc.hystart',
  'tune.quic.be.cc.max-frame-loss', 'tune.quic.be.cc.max-win-size',
  'tune.quic.be.cc.reorder-ratio', 'tune.quic.be.max-idle-timeout',
  'tune.quic.be.sec.glitches-threshold', 'tune.quic.be.stream.data-ratio',
  'tune.quic.be.stream.max-concurrent', 'tune.quic.be.stream.rxbuf', 'tune.quic.be.tx.pacing',
  'tune.quic.be.tx.udp-gso', 'tune.quic.fe.cc.cubic-min-losses', 'tune.quic.fe.cc.hystart',
  'tune.quic.fe.cc.max-frame-loss', 'tune.quic.fe.cc.max-win-size',
  'tune.quic.fe.cc.reorder-ratio', 'tune.quic.fe.max-idle-timeout',
  'tune.quic.fe.sec.glitches-threshold', 'tune.quic.fe.sec.retry-threshold',
  'tune.quic.fe.sock-per-conn', 'tune.quic.fe.stream.data-ratio',
  'tune.quic.fe.stream.max-concurrent', 'tune.quic.fe.stream.max-total',
  'tune.quic.fe.stream.rxbuf', 'tune.quic.fe.tx.pacing', 'tune.quic.fe.tx.udp-gso',
  'tune.quic.frontend.conn-tx-buffers.limit', 'tune.quic.frontend.max-idle-timeout',
  'tune.quic.frontend.max-streams-bidi', 'tune.quic.listen', 'tune.quic.mem.tx-max',
  'tune.quic.retry-threshold', 'tune.quic.zero-copy-fwd-send', 'tune.rcvbuf.backend',
  'tune.rcvbuf.client', 'tune.rcvbuf.frontend', 'tune.rcvbuf.server', 'tune.recv_enough',
  'tune.renice.runtime', 'tune.renice.startup', 'tune.ring.queues', 'tune.runqueue-depth',
  'tune.sched.low-latency', 'tune.sndbuf.backend', 'tune.sndbuf.client', 'tune.sndbuf.frontend',
  'tune.sndbuf.server', 'tune.ssl.cachesize', 'tune.ssl.capture-buffer-size',
  'tune.ssl.capture-cipherlist-size', 'tune.ssl.certificate-compression',
  'tune.ssl.default-dh-param', 'tune.ssl.force-private-cache', 'tune.ssl.hard-maxrecord',
  'tune.ssl.keylog', 'tune.ssl.keyupdate-rate-limit', 'tune.ssl.lifetime', 'tune.ssl.maxrecord',
  'tune.ssl.ocsp-update.maxdelay', 'tune.ssl.ocsp-update.mindelay', 'tune.ssl.ssl-ctx-cache-size',
  'tune.stick-counters', 'tune.streams-elasticity', 'tune.takeover-other-tg-connections',
  'tune.vars.global-max-size', 'tune.vars.proc-max-size', 'tune.vars.reqres-max-size',
  'tune.vars.sess-max-size', 'tune.vars.txn-max-size', 'tune.zlib.memlevel',
  'tune.zlib.windowsize',
]);

// ---------------------------------------------------------------------------------------------
// Proxy sections

/** Proxy keywords accepted with no effect. */
export const PROXY_NOOP = new Set([
  'backlog', 'clitcpka-cnt', 'clitcpka-idle', 'clitcpka-intvl', 'srvtcpka-cnt', 'srvtcpka-idle',
  'srvtcpka-intvl',
]);

/** Keywords whose first word needs the second one to name the feature in messages. */
export const PROXY_TWO_WORD = new Set([
  'capture', 'declare', 'email-alert', 'external-check', 'http-after-response', 'http-check',
  'http-response', 'monitor', 'persist', 'quic-initial', 'rate-limit', 'stats', 'stick',
  'tcp-check', 'tcp-request', 'tcp-response',
]);

/** Proxy keywords sluice recognises but does not implement yet. */
export const PROXY_UNSUPPORTED = new Set([
  'be-unpublished', 'compression', 'cookie', 'crt', 'declare', 'dispatch',
  'dynamic-cookie-key', 'email-alert', 'error-log-format', 'errorloc', 'errorloc302',
  'errorloc303', 'external-check', 'filter', 'filter-sequence', 'force-be-switch', 'force-persist',
  'guid', 'hash-balance-factor', 'hash-preserve-affinity', 'http-send-name-header', 'ignore-persist',
  'load-server-state-from-file', 'log-format-sd', 'log-steps', 'log-tag', 'max-keep-alive-queue',
  'max-session-srv-conns', 'monitor', 'monitor-uri', 'persist', 'quic-initial', 'rate-limit',
  'redirect', 'server-state-file-name', 'server-template', 'source', 'stats', 'stick',
  'stick-table', 'tcp-request', 'tcp-response', 'transparent', 'unique-id-format',
  'unique-id-header', 'use-fcgi-app', 'usesrc',
]);

/** Keywords HAProxy itself removed, with HAProxy's own message. */
export const PROXY_REMOVED: Record<string, string> = {
  appsession: "'appsession' is not supported anymore since HAProxy 1.6.",
  block: "The 'block' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax.",
  redispatch: "keyword 'redispatch' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'.",
  redisp: "keyword 'redisp' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'.",
  grace: "the 'grace' keyword is not supported any more since HAProxy version 2.5.",
  'monitor-net': "'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if { src %s }' instead.",
  contimeout: "the 'contimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout connect'.",
  clitimeout: "the 'clitimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout client'.",
  srvtimeout: "the 'srvtimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout server'.",
};

const REMOVED_21: Record<string, string> = {
  reqrep: "Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead.",
  reqdel: "Use 'http-request del-header' instead.",
  reqdeny: "Use 'http-request deny' instead.",
  reqpass: '',
  reqallow: "Use 'http-request allow' instead.",
  reqtarpit: "Use 'http-request tarpit' instead.",
  reqirep: "Use 'http-request replace-header' instead.",
  reqidel: "Use 'http-request del-header' instead.",
  reqideny: "Use 'http-request deny' instead.",
  reqipass: '',
  reqiallow: "Use 'http-request allow' instead.",
  reqitarpit: "Use 'http-request tarpit' instead.",
  reqadd: "Use 'http-request add-header' instead.",
  rsprep: "Use 'http-response replace-header' instead.",
  rspdel: "Use 'http-response del-header' instead.",
  rspdeny: "Use 'http-response deny' instead.",
  rspirep: "Use 'http-response replace-header' instead.",
  rspidel: "Use 'http-response del-header' instead.",
  rspideny: "Use 'http-response deny' instead.",
  rspadd: "Use 'http-response add-header' instead.",
};
for (const [kw, hint] of Object.entries(REMOVED_21)) {
  PROXY_REMOVED[kw] = `The '${kw}' directive is not supported anymore since HAProxy 2.1.${hint ? ' ' + hint : ''}`;
}

/** Options accepted with no effect (socket tuning Node.js does not expose, statistics details). */
export const OPTION_NOOP: Record<string, 'fe' | 'be' | 'any'> = {
  clitcpka: 'fe',
  contstats: 'fe',
  'http-no-delay': 'any',
  'splice-auto': 'any',
  'splice-request': 'any',
  'splice-response': 'any',
  srvtcpka: 'be',
  tcpka: 'any',
  'tcp-smart-accept': 'fe',
  'tcp-smart-connect': 'be',
};

/** Options sluice recognises but does not implement yet. */
export const OPTION_UNSUPPORTED = new Set([
  'accept-invalid-http-request', 'accept-invalid-http-response',
  'accept-unsafe-violations-in-http-request', 'accept-unsafe-violations-in-http-response',
  'checkcache', 'dontlog-normal', 'external-check', 'forwarded',
  'h1-case-adjust-bogus-client', 'h1-case-adjust-bogus-server', 'http-drop-request-trailers',
  'http-drop-response-trailers', 'http-pretend-keepalive', 'http-restrict-req-hdr-names',
  'http-use-proxy-header', 'httpslog', 'idle-close-on-response', 'independent-streams',
  'ldap-check', 'log-separate-errors', 'mysql-check', 'nolinger',
  'originalto', 'persist', 'pgsql-check', 'prefer-last-server', 'redis-check', 'smtpchk',
  'socket-stats', 'spop-check', 'ssl-hello-chk', 'transparent', 'use-small-buffers',
]);

/** Options HAProxy removed, with its message. */
export const OPTION_REMOVED: Record<string, string> = {
  forceclose:
    "option 'forceclose' is not supported any more since HAProxy 2.0, please just remove it, or use 'option httpclose' if absolutely needed.",
  'http-tunnel': "option 'http-tunnel' is not supported any more since HAProxy 2.1, please just remove it, it shouldn't be needed.",
  http_proxy:
    "option 'http_proxy' is not supported any more since HAProxy 2.5. This option stopped working in HAProxy 1.9 and usually had nasty side effects. It can be more reliably implemented with combinations of 'http-request set-dst' and 'http-request set-uri', and even 'http-request do-resolve' if desired.",
};

/** HAProxy's extra candidates for option suggestions (cfgparse-listen.c common_options). */
export const COMMON_OPTIONS = [
  'httpclose',
  'http-server-close',
  'http-keep-alive',
  'redispatch',
  'httplog',
  'tcplog',
  'tcpka',
  'httpchk',
  'ssl-hello-chk',
  'smtpchk',
  'pgsql-check',
  'redis-check',
  'mysql-check',
  'ldap-check',
  'spop-check',
  'tcp-check',
  'external-check',
  'forwardfor',
  'original-to',
];

// ---------------------------------------------------------------------------------------------
// http-request actions (configuration.txt 4.3), matched up to a '(' for the parameterised ones

const HTTP_REQUEST_ACTIONS = [
  'add-acl', 'add-header', 'add-headers-bin', 'allow', 'auth', 'cache-use', 'capture', 'del-acl',
  'del-header', 'del-headers-bin', 'del-map', 'deny', 'disable-l7-retry', 'do-log', 'do-resolve',
  'early-hint', 'normalize-uri', 'pause', 'redirect', 'reject', 'replace-header', 'replace-path',
  'replace-pathq', 'replace-uri', 'replace-value', 'return', 'sc-add-gpc', 'sc-inc-gpc', 'sc-inc-gpc0',
  'sc-inc-gpc1', 'sc-set-gpt', 'sc-set-gpt0', 'send-spoe-group', 'set-bandwidth-limit',
  'set-bc-mark', 'set-bc-tos', 'set-dst', 'set-dst-port', 'set-fc-mark', 'set-fc-tos',
  'set-header', 'set-headers-bin', 'set-log-level', 'set-map', 'set-mark', 'set-method',
  'set-nice', 'set-path', 'set-pathq', 'set-priority-class', 'set-priority-offset', 'set-query',
  'set-retries', 'set-src', 'set-src-port', 'set-timeout', 'set-tos', 'set-uri', 'set-var',
  'set-var-fmt', 'silent-drop', 'strict-mode', 'tarpit', 'track-sc0', 'track-sc1', 'track-sc2',
  'unset-var', 'use-service', 'wait-for-body', 'wait-for-handshake',
];

const HTTP_RESPONSE_ACTIONS = [
  'add-acl', 'add-header', 'allow', 'cache-store', 'capture', 'del-acl', 'del-header', 'del-map',
  'deny', 'do-log', 'pause', 'redirect', 'replace-header', 'replace-value', 'return', 'sc-add-gpc',
  'sc-inc-gpc', 'sc-inc-gpc0', 'sc-inc-gpc1', 'sc-set-gpt', 'sc-set-gpt0', 'send-spoe-group',
  'set-bandwidth-limit', 'set-fc-mark', 'set-fc-tos', 'set-header', 'set-log-level', 'set-map',
  'set-mark', 'set-nice', 'set-status', 'set-timeout', 'set-tos', 'set-var', 'set-var-fmt',
  'silent-drop', 'strict-mode', 'track-sc0', 'track-sc1', 'track-sc2', 'unset-var', 'wait-for-body',
];

const HTTP_AFTER_RESPONSE_ACTIONS = [
  'add-header', 'allow', 'capture', 'del-acl', 'del-header', 'del-map', 'do-log', 'replace-header',
  'replace-value', 'sc-add-gpc', 'sc-inc-gpc', 'sc-inc-gpc0', 'sc-inc-gpc1', 'sc-set-gpt',
  'sc-set-gpt0', 'set-header', 'set-log-level', 'set-map', 'set-status', 'set-var', 'set-var-fmt',
  'strict-mode', 'unset-var',
];

/**
 * The actions HAProxy knows in each rule list (configuration.txt 4.3 and 4.4), by base name
 * ("set-var(txn.x)" -> "set-var"): those sluice does not implement are "not supported yet".
 */
export const HTTP_ACTIONS_KNOWN: Record<'request' | 'response' | 'after-response', ReadonlySet<string>> = {
  request: new Set(HTTP_REQUEST_ACTIONS),
  response: new Set(HTTP_RESPONSE_ACTIONS),
  'after-response': new Set(HTTP_AFTER_RESPONSE_ACTIONS),
};

// ---------------------------------------------------------------------------------------------
// bind and server options (configuration.txt 5.1 and 5.2), with their argument counts

/** Bind options sluice does not implement, and how many arguments each takes. */
export const BIND_UNSUPPORTED: Record<string, number> = {
  'accept-netscaler-cip': 1, 'accept-proxy': 0, 'allow-0rtt': 0, 'ca-ignore-err': 1, 'ca-sign-file': 1,
  'ca-sign-pass': 1, 'ca-verify-file': 1, cc: 1, 'client-sigalgs': 1, 'crl-file': 1, 'crt-ignore-err': 1,
  'default-crt': 1, ech: 1, ecdhe: 1, 'expose-fd': 1, 'force-sslv3': 0, 'generate-certificates': 0,
  gid: 1, group: 1, 'guid-prefix': 1, 'idle-ping': 1, interface: 1, ktls: 1, label: 1, level: 1,
  mode: 1, mss: 1, namespace: 1, nbconn: 1, 'no-ca-names': 0, npn: 1, 'quic-cc-algo': 1,
  'quic-force-retry': 0, 'quic-socket': 1, 'severity-output': 1, sigalgs: 1, 'tcp-md5sig': 1,
  'tcp-ss': 1, 'tcp-ut': 1, tfo: 0, 'tls-ticket-keys': 1, transparent: 0, uid: 1, user: 1,
};

/** Server options sluice does not implement, and how many arguments each takes (-1: variable). */
export const SERVER_UNSUPPORTED: Record<string, number> = {
  'allow-0rtt': 0, cc: 1, 'client-sigalgs': 1, cookie: 1, 'crl-file': 1, curves: 1,
  'force-sslv3': 0, guid: 1, 'hash-key': 1, healthcheck: 1, 'idle-ping': 1, 'init-addr': 1,
  ktls: 1, 'log-bufsize': 1, 'log-proto': 1, minconn: 1, namespace: 1,
  'no-renegotiate': 0, 'no-send-proxy-v2-ssl': 0,
  'no-send-proxy-v2-ssl-cn': 0, 'no-sni-auto': 0, 'no-ssl-reuse': 0, 'no-tfo': 0,
  'no-tls-tickets': 0, 'non-stick': 0, npn: 1, 'pool-conn-name': 1, 'proxy-v2-options': 1,
  'quic-cc-algo': 1, redir: 1, renegotiate: 0, 'resolve-net': 1, 'resolve-opts': 1,
  'resolve-prefer': 1, resolvers: 1, 'send-proxy-v2-ssl': 0,
  'send-proxy-v2-ssl-cn': 0, 'set-proxy-v2-tlv-fmt': 0, shard: 1, sigalgs: 1, 'sni-auto': 0,
  socks4: 1, source: -1, 'ssl-reuse': 0, stick: 0, 'strict-maxconn': 0, 'tcp-md5sig': 1,
  'tcp-ut': 1, tfo: 0, 'tls-tickets': 0, track: 1, usesrc: 0, ws: 1,
};
