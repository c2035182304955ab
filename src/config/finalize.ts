// Turns the drafts into the frozen model: numeric ids, inherited rules, resolved addresses,
// the connection mode booleans, and a deep freeze.

import type { InetAddress } from './address.js';
import type { LogTargetDraft } from './logs.js';
import type { AddressSpec, Config, HttpRuleSpec, GlobalConfig, LogTarget, ProxyConfig, ResolversConfig, ServerCheckSettings, ServerConfig } from './model.js';
import { finalizeRuleset } from './checks.js';
import { httpErrorsSections } from './errorfile.js';
import { applyConnMode } from './options.js';
import { agentPortOf } from './server-checks.js';
import type { ParserState, ProxyDraft, ServerDraft } from './state.js';

/** The tune.h2 settings per side: a side's own value (-1 when unset) wins over the common one. */
function h2Tune(t: ParserState['global']['tune']['h2'], bufsize: number): GlobalConfig['tune']['h2'] {
  const side = (s: { initialWindowSize: number; maxConcurrentStreams: number }): GlobalConfig['tune']['h2']['fe'] => ({
    initialWindowSize: s.initialWindowSize >= 0 ? s.initialWindowSize : t.initialWindowSize,
    maxConcurrentStreams: s.maxConcurrentStreams >= 0 ? s.maxConcurrentStreams : t.maxConcurrentStreams,
  });
  // A frame must fit in a buffer: HAProxy never announces more than tune.bufsize (nor, as
  // HTTP/2 requires, less than 16384).
  return { headerTableSize: t.headerTableSize, maxFrameSize: Math.max(16384, Math.min(t.maxFrameSize, bufsize)), fe: side(t.fe), be: side(t.be) };
}

/** Builds the frozen Config from a state that passed every check. */
export function buildConfig(state: ParserState, files: string[]): Config {
  const g = state.global;
  const bufsize = g.tune.bufsize;
  const global: GlobalConfig = {
    maxconn: g.maxconn,
    logs: g.logs.map(logTarget),
    logTag: g.logTag,
    daemon: g.daemon,
    nbthread: g.nbthread,
    grace: g.grace,
    noReusePort: g.noReusePort,
    spreadChecks: g.spreadChecks,
    tune: {
      bufsize,
      // HAProxy keeps at least half of the buffer for data.
      maxrewrite: Math.min(g.tune.maxrewrite, Math.floor(bufsize / 2)),
      maxhdr: g.tune.maxhdr,
      h2: h2Tune(g.tune.h2, bufsize),
    },
  };
  if (g.pidfile !== undefined) global.pidfile = g.pidfile;
  if (g.hardStopAfter !== undefined) global.hardStopAfter = g.hardStopAfter;
  if (g.loc) global.loc = g.loc;

  const ids = assignIds(state.proxies.map((p) => p.forcedId));
  const proxies = state.proxies.map((p, i) => proxyConfig(p, ids[i]));
  const resolvers: ResolversConfig[] = state.resolvers.map((r) => ({
    name: r.name,
    nameservers: r.nameservers.map((n) => ({ name: n.name, addr: addressSpec(n.addr) })),
    parseResolvConf: r.parseResolvConf,
    settings: r.settings.map((s) => ({ keyword: s.keyword, args: [...s.args], loc: s.loc })),
    loc: r.loc,
  }));
  const userlists = state.userlists.map((u) => ({ name: u.name, lines: u.lines.map((l) => ({ words: [...l.words], loc: l.loc })), loc: u.loc }));
  const httpErrors = new Map(httpErrorsSections(state).map((x) => [x.name, new Map(x.files)]));
  return deepFreeze({ global, proxies, resolvers, userlists, httpErrors, files: [...files] });
}

function ruleSpec(r: HttpRuleSpec): HttpRuleSpec {
  const c: HttpRuleSpec = { words: [...r.words], loc: r.loc, acls: r.acls };
  if (r.captureSlot !== undefined) c.captureSlot = r.captureSlot;
  return c;
}

/** HAProxy's automatic numbering: the first unused id, counting up from the previous one. */
function assignIds(forced: Array<number | undefined>): number[] {
  const used = new Set(forced.filter((x): x is number => x !== undefined));
  let next = 1;
  return forced.map((f) => {
    if (f !== undefined) return f;
    while (used.has(next)) next++;
    used.add(next);
    return next++;
  });
}

function proxyConfig(p: ProxyDraft, id: number): ProxyConfig {
  const kind = p.kind === 'defaults' ? 'listen' : p.kind;
  const options = { ...p.options };
  applyConnMode(options, p.httpConnMode);
  const serverIds = assignIds(p.servers.map((s) => s.forcedId));
  const checks = finalizeRuleset(p, p.loc);
  const cfg: ProxyConfig = {
    name: p.name,
    kind,
    id,
    mode: p.mode,
    disabled: p.disabled,
    loc: p.loc,
    timeouts: { ...p.timeouts },
    logs: p.logs.map(logTarget),
    options,
    binds: p.binds.map((b) => {
      const bind: ProxyConfig['binds'][number] = {
        addr: addressSpec(b.addr),
        maxconn: b.maxconn,
        v6only: b.v6only,
        rawArgs: [...b.rawArgs],
        loc: b.loc,
      };
      if (b.name !== undefined) bind.name = b.name;
      if (b.proto !== undefined) bind.proto = b.proto;
      if (b.ssl !== undefined) bind.ssl = { ...b.ssl, certs: [...b.ssl.certs], noVersions: [...b.ssl.noVersions] };
      return bind;
    }),
    maxconn: p.fe ? p.maxconn : 0,
    useBackends: p.fe ? p.useBackends.map((r) => ({ ...r })) : [],
    acls: p.acls.map((a) => ({ name: a.name, args: [...a.args], loc: a.loc })),
    // Rules of the defaults section the proxy was created from run before its own.
    httpRequestRules: p.mode === 'http' ? [...(p.from?.httpRequestRules ?? []), ...p.httpRequestRules].map(ruleSpec) : [],
    httpResponseRules: p.mode === 'http' ? [...(p.from?.httpResponseRules ?? []), ...p.httpResponseRules].map(ruleSpec) : [],
    httpAfterResponseRules: p.mode === 'http' ? [...(p.from?.httpAfterResponseRules ?? []), ...p.httpAfterResponseRules].map(ruleSpec) : [],
    httpErrors: p.httpErrors.map(ruleSpec),
    reqCaptures: p.fe ? p.reqCaptures.map((c) => ({ ...c })) : [],
    resCaptures: p.fe ? p.resCaptures.map((c) => ({ ...c })) : [],
    useServers: p.be ? p.useServers.map((r) => ({ ...r })) : [],
    servers: p.be
      ? p.servers.map(
          (s, i): ServerConfig => ({
            name: s.name,
            id: serverIds[i],
            addr: addressSpec(s.addr),
            weight: s.weight,
            backup: s.backup,
            disabled: s.disabled,
            maxconn: s.maxconn,
            maxqueue: s.maxqueue,
            poolMaxConn: s.poolMaxConn,
            poolPurgeDelay: s.poolPurgeDelay,
            maxReuse: s.maxReuse,
            check: s.check,
            checkInter: s.checkInter,
            ...(s.checkFastinter !== undefined ? { checkFastinter: s.checkFastinter } : {}),
            ...(s.checkDowninter !== undefined ? { checkDowninter: s.checkDowninter } : {}),
            checkRise: s.checkRise,
            checkFall: s.checkFall,
            ...(s.checkPort !== undefined ? { checkPort: s.checkPort } : {}),
            ...serverCheckSettings(s, checks?.type === 'http'),
            ...(s.proto !== undefined ? { proto: s.proto } : {}),
            ...(s.sendProxyV2 === true ? { sendProxy: 2 as const } : s.sendProxyV1 === true ? { sendProxy: 1 as const } : {}),
            ...(s.ssl !== undefined ? { ssl: { ...s.ssl, noVersions: [...s.ssl.noVersions] } } : {}),
            rawArgs: [...s.rawArgs],
            loc: s.loc,
          }),
        )
      : [],
    balance: { ...p.balance },
    hashType: { ...p.hashType },
    retries: p.retries,
    retryOn: p.retryOn,
    httpReuse: p.httpReuse,
    fullconn: p.fullconn,
    errorfiles: new Map(p.errorfiles),
  };
  if (checks) cfg.checks = checks;
  if (p.fe && p.logFormat !== undefined) cfg.logFormat = p.logFormat;
  if (p.fe && p.defaultBackend) cfg.defaultBackend = p.defaultBackend.name;
  return cfg;
}

function addressSpec(a: InetAddress): AddressSpec {
  const spec: AddressSpec = { host: a.host, family: a.family === 6 ? 6 : 4, port: a.port };
  if (a.fqdn !== undefined) spec.fqdn = a.fqdn;
  return spec;
}

function logTarget(l: LogTargetDraft): LogTarget {
  const { fqdn: _fqdn, fqdnFamily: _family, ...rest } = l;
  return { ...rest, loc: { ...l.loc } };
}

/** Freezes an object graph; Maps and binary buffers stay as they are (they cannot be frozen). */
export function deepFreeze<T>(value: T, seen = new WeakSet<object>()): T {
  if (value === null || typeof value !== 'object') return value;
  const obj = value as object;
  if (seen.has(obj) || ArrayBuffer.isView(obj)) return value;
  seen.add(obj);
  if (obj instanceof Map) {
    for (const v of obj.values()) deepFreeze(v, seen);
    return value;
  }
  for (const v of Object.values(obj)) deepFreeze(v, seen);
  return Object.freeze(value);
}

/**
 * The check settings of a server draft, resolved as HAProxy does when it starts the checks
 * (check.c init_srv_check): TLS follows the server's `ssl` unless a check port or address is
 * set; an HTTP check speaks the server's `proto` unless `check-proto` says otherwise.
 */
function serverCheckSettings(s: ServerDraft, httpCheck: boolean): ServerCheckSettings {
  const out: ServerCheckSettings = {
    checkSendProxy: s.checkSendProxy,
    errorLimit: s.errorLimit,
    onError: s.onError,
    onMarkedDownShutdown: s.onMarkedDownShutdown,
    onMarkedUpShutdownBackups: s.onMarkedUpShutdownBackups,
    slowstart: s.slowstart,
  };
  if (s.checkAddr !== undefined) out.checkAddr = { ...s.checkAddr };
  out.checkSsl = s.checkSsl ?? (s.checkPort === undefined && s.checkAddr === undefined && s.ssl?.enabled === true);
  if (s.checkSni !== undefined) out.checkSni = s.checkSni;
  if (s.checkAlpn !== undefined) out.checkAlpn = [...s.checkAlpn];
  const proto = s.checkProto ?? (httpCheck && !s.checkProtoNone ? s.proto : undefined);
  if (proto !== undefined) out.checkProto = proto;
  if (s.agentCheck) {
    const addr = s.agentAddr ?? s.checkAddr;
    out.agent = { port: agentPortOf(s) & 0xffff, inter: s.agentInter ?? 2000 };
    if (addr !== undefined) out.agent.addr = { ...addr };
    if (s.agentSend !== undefined) out.agent.send = s.agentSend;
  }
  if (s.observe !== undefined) out.observe = s.observe;
  if (s.initState !== undefined) out.initState = s.initState;
  return out;
}
