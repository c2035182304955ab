// The mutable drafts the keyword parsers fill, and the parser's state. Drafts become the frozen
// model (model.ts) once every file was read and checked (see finalize.ts).

import type {
  BalanceConfig,
  ConditionSpec,
  HashTypeConfig,
  HttpReuse,
  CaptureSlot,
  HttpRuleSpec,
  UseServerRule,
  UserlistConfig,
  LogTarget,
  Mode,
  ProxyOptions,
  SourceLoc,
  Timeouts,
  TuneConfig,
  BindSsl,
  ServerSsl,
  UseBackendRule,
  AclDef,
  CheckAddr,
  ServerCheckSettings,
} from './model.js';
import type { CheckDraft } from './checks.js';
import { RetryOn } from './model.js';
import type { GlobalSsl } from './ssl-global.js';
import type { InetAddress } from './address.js';
import type { DiagnosticList } from './diagnostics.js';
import type { Env } from './lexer.js';

/** Server settings that `default-server` presets for the servers declared after it. */
export interface ServerSettings extends ServerCheckSettings {
  weight: number;
  backup: boolean;
  disabled: boolean;
  maxconn: number;
  maxqueue: number;
  poolMaxConn: number;
  poolPurgeDelay: number;
  maxReuse: number;
  check: boolean;
  /** Health-check timing and thresholds (`inter`, `fastinter`, `downinter`, `rise`, `fall`), ms. */
  checkInter: number;
  checkFastinter?: number;
  checkDowninter?: number;
  checkRise: number;
  checkFall: number;
  /** `port`: the port checks connect to (default: the server's). */
  checkPort?: number;
  /** `proto h1|h2`: the mux towards the server; undefined: HTTP/1.1. */
  proto?: 'h1' | 'h2';
  ssl?: ServerSsl;
  /** `send-proxy` and `send-proxy-v2` (each undone by its `no-` form; v2 wins when both). */
  sendProxyV1?: boolean;
  sendProxyV2?: boolean;
  /** Keywords kept as written for later features (checks ...), in order. */
  rawArgs: string[];
  /** `agent-check` / `no-agent-check`; the model's `agent` is built from the fields below. */
  agentCheck?: boolean;
  /** `agent-port` as written (atol), `agent-addr`, `agent-inter`, `agent-send`. */
  agentPort?: number;
  agentAddr?: CheckAddr;
  agentInter?: number;
  agentSend?: string;
  /** `check-proto none`: the pass-through mux, valid for non-HTTP checks only. */
  checkProtoNone?: boolean;
}

export interface ServerDraft extends ServerSettings {
  name: string;
  forcedId?: number;
  addr: InetAddress;
  loc: SourceLoc;
}

export interface BindDraft {
  addr: InetAddress;
  /** The address argument as written, for messages. */
  text: string;
  name?: string;
  maxconn: number;
  v6only: boolean;
  rawArgs: string[];
  proto?: 'h1' | 'h2';
  ssl?: BindSsl;
  loc: SourceLoc;
}

/** Where `log-format` came from: HAProxy warns when one replaces another in a defaults section. */
export type LogFormatOrigin = 'option httplog' | 'option httplog clf' | 'option tcplog' | 'log-format';

export type HttpConnMode = 'kal' | 'scl' | 'clo';

export interface ProxyDraft {
  name: string;
  kind: 'frontend' | 'backend' | 'listen' | 'defaults';
  /** Frontend and backend capabilities (defaults sections have both). */
  fe: boolean;
  be: boolean;
  loc: SourceLoc;
  forcedId?: number;
  mode: Mode;
  disabled: boolean;
  timeouts: Timeouts;
  logs: LogTarget[];
  logFormat?: string;
  logFormatOrigin?: LogFormatOrigin;
  logFormatLoc?: SourceLoc;
  options: ProxyOptions;
  httpConnMode?: HttpConnMode;
  binds: BindDraft[];
  maxconn: number;
  defaultBackend?: { name: string; loc: SourceLoc };
  useBackends: UseBackendRule[];
  httpRequestRules: HttpRuleSpec[];
  httpResponseRules: HttpRuleSpec[];
  httpAfterResponseRules: HttpRuleSpec[];
  httpErrors: HttpRuleSpec[];
  reqCaptures: CaptureSlot[];
  resCaptures: CaptureSlot[];
  acls: AclDef[];
  servers: ServerDraft[];
  useServers: UseServerRule[];
  defaultServer: ServerSettings;
  balance: BalanceConfig;
  hashType: HashTypeConfig;
  retries: number;
  retryOn: number;
  httpReuse: HttpReuse;
  fullconn: number;
  errorfiles: Map<number, Buffer>;
  /** The errorfile and errorfiles lines in order, for errorfiles naming later http-errors sections. */
  errorSources: Array<{ status: number; data: Buffer } | { section: string; codes: number[]; loc: SourceLoc }>;
  /** The defaults section this proxy was created from (its http-request rules run first). */
  from?: ProxyDraft;
  /** Defaults sections only: used by name (`from`) and/or implicitly (the last one). */
  explicitRef?: boolean;
  implicitRef?: boolean;
  /** Defaults with http-request rules serve either frontends or backends, never both. */
  rulesUsedBy?: ProxyDraft['kind'];
  /** The check settings as HAProxy keeps them while parsing (checks.ts). */
  checks: CheckDraft;
}

/** tune.h2 as read: the common values, and per side -1 where the side's own keyword is absent. */
export interface H2TuneDraft {
  headerTableSize: number;
  maxFrameSize: number;
  initialWindowSize: number;
  maxConcurrentStreams: number;
  fe: { initialWindowSize: number; maxConcurrentStreams: number };
  be: { initialWindowSize: number; maxConcurrentStreams: number };
}

export interface GlobalDraft {
  maxconn: number;
  logs: LogTarget[];
  logTag: string;
  pidfile?: string;
  daemon: boolean;
  nbthread: number;
  hardStopAfter?: number;
  grace: number;
  noReusePort: boolean;
  spreadChecks: number;
  /** crt-base, ca-base and the ssl-default-* settings. */
  ssl: GlobalSsl;
  tune: Omit<TuneConfig, 'h2'> & { h2: H2TuneDraft };
  loc?: SourceLoc;
  /** `zero-warning`: any warning makes the configuration fail. */
  zeroWarning: boolean;
  /** Keywords HAProxy accepts once only ("already specified. Continuing."). */
  seen: Set<string>;
}

export interface ResolversDraft {
  name: string;
  nameservers: Array<{ name: string; addr: InetAddress; loc: SourceLoc }>;
  parseResolvConf: boolean;
  settings: Array<{ keyword: string; args: string[]; loc: SourceLoc }>;
  loc: SourceLoc;
}

export type SectionKind = 'global' | 'defaults' | 'frontend' | 'backend' | 'listen' | 'resolvers' | 'custom' | 'unsupported';

export interface CurrentSection {
  kind: SectionKind;
  /** The section keyword as written ("userlist" for unsupported ones). */
  keyword: string;
  proxy?: ProxyDraft;
  resolvers?: ResolversDraft;
  /** A registered section kind (registry.ts SectionDef) and the state its `open` returned. */
  custom?: { def: import('./registry.js').SectionDef; data: unknown };
}

/** Everything the keyword parsers share during one load. */
export interface ParserState {
  diags: DiagnosticList;
  /** The environment seen by "$VAR" expansion; `setenv` and friends modify this copy. */
  env: Env;
  global: GlobalDraft;
  /** Frontends, backends and listens in declaration order. */
  proxies: ProxyDraft[];
  /** Every defaults section, in order (names may repeat). */
  defaultsSections: ProxyDraft[];
  /** The defaults section the next proxy inherits from unless it says `from`. */
  lastDefaults: ProxyDraft;
  resolvers: ResolversDraft[];
  userlists: UserlistConfig[];
  section?: CurrentSection;
  /** Base directory for relative file names (`default-path`). */
  defaultPath: { mode: 'current' | 'config' | 'parent' | 'origin'; origin?: string };
  /** The file being read. */
  file: string;
}

export function defaultServerSettings(): ServerSettings {
  return {
    weight: 1,
    backup: false,
    disabled: false,
    maxconn: 0,
    maxqueue: 0,
    poolMaxConn: -1,
    poolPurgeDelay: 5000,
    maxReuse: -1,
    check: false,
    checkInter: 2000,
    checkRise: 2,
    checkFall: 3,
    checkSendProxy: false,
    errorLimit: 10,
    onError: 'fail-check',
    onMarkedDownShutdown: false,
    onMarkedUpShutdownBackups: false,
    slowstart: 0,
    rawArgs: [],
  };
}

export function defaultProxyOptions(): ProxyOptions {
  return {
    httpServerClose: false,
    httpClose: false,
    httpKeepAlive: false,
    httplog: false,
    httplogClf: false,
    tcplog: false,
    allbackups: false,
    dontlognull: false,
    logasap: false,
    httpBufferRequest: false,
    httpIgnoreProbes: false,
    disableH2Upgrade: false,
    abortOnClose: false,
    logHealthChecks: false,
  };
}

/** A defaults section holding HAProxy's documented defaults (the implicit one before any). */
export function presetDefaults(loc: SourceLoc, name = ''): ProxyDraft {
  return {
    name,
    kind: 'defaults',
    fe: true,
    be: true,
    loc,
    mode: 'tcp',
    disabled: false,
    timeouts: {},
    logs: [],
    options: defaultProxyOptions(),
    binds: [],
    maxconn: 0,
    useBackends: [],
    httpRequestRules: [],
    httpResponseRules: [],
    httpAfterResponseRules: [],
    httpErrors: [],
    reqCaptures: [],
    resCaptures: [],
    acls: [],
    servers: [],
    useServers: [],
    defaultServer: defaultServerSettings(),
    balance: { algo: 'roundrobin' },
    hashType: { method: 'map-based', fn: 'sdbm', avalanche: false },
    retries: 3,
    retryOn: RetryOn.ConnFailure,
    httpReuse: 'safe',
    fullconn: 0,
    errorfiles: new Map(),
    errorSources: [],
    checks: { enabled: false, proto: 'none', unusedTcp: false, unusedHttp: false, disableOn404: false, sendState: false, connectSsl: false },
  };
}

/**
 * Creates a section from a defaults section the way HAProxy does (proxy.c proxy_defproxy_cpy):
 * frontend-side settings are inherited only by proxies with the frontend capability, and
 * backend-side ones only by proxies with the backend capability.
 */
export function inheritFrom(def: ProxyDraft, name: string, kind: ProxyDraft['kind'], loc: SourceLoc): ProxyDraft {
  const fe = kind !== 'backend';
  const be = kind !== 'frontend';
  const p = presetDefaults(loc, name);
  p.kind = kind;
  p.fe = fe;
  p.be = be;
  p.mode = def.mode;
  p.disabled = def.disabled;
  p.options = { ...def.options };
  if (def.options.forwardfor) {
    p.options.forwardfor = { ...def.options.forwardfor };
    if (def.options.forwardfor.except) p.options.forwardfor.except = { ...def.options.forwardfor.except };
  }
  if (def.httpConnMode) p.httpConnMode = def.httpConnMode;
  p.httpReuse = def.httpReuse;
  p.errorfiles = new Map(def.errorfiles);
  p.errorSources = [...def.errorSources];
  p.httpErrors = [...def.httpErrors];
  p.logs = def.logs.map((l) => ({ ...l, loc: { ...l.loc } }));
  p.defaultServer = { ...def.defaultServer, rawArgs: [...def.defaultServer.rawArgs] };
  const t = def.timeouts;
  if (fe) {
    p.maxconn = def.maxconn;
    // Slots declared by capture rules of the defaults section, which its frontends run.
    p.reqCaptures = def.reqCaptures.map((c) => ({ ...c }));
    copyTimeouts(p.timeouts, t, ['client', 'clientFin', 'tarpit', 'httpRequest', 'httpKeepAlive']);
    if (def.defaultBackend) p.defaultBackend = { ...def.defaultBackend };
    if (def.logFormat !== undefined) {
      p.logFormat = def.logFormat;
      if (def.logFormatOrigin) p.logFormatOrigin = def.logFormatOrigin;
      if (def.logFormatLoc) p.logFormatLoc = def.logFormatLoc;
    }
  }
  // HAProxy copies the check options to every proxy, the ruleset and its kind to backends only;
  // rules written later in the proxy go to its own ruleset (checks.ts).
  p.checks = { ...def.checks, unusedTcp: false, unusedHttp: false };
  if (!be) {
    delete p.checks.list;
    p.checks.proto = 'none';
  }
  if (be) {
    p.balance = { ...def.balance };
    p.hashType = { ...def.hashType };
    p.fullconn = def.fullconn;
    p.retries = def.retries;
    p.retryOn = def.retryOn;
    if (def.options.redispatch !== undefined) p.options.redispatch = def.options.redispatch;
    copyTimeouts(p.timeouts, t, ['connect', 'server', 'serverFin', 'check', 'queue', 'tarpit', 'httpRequest', 'httpKeepAlive', 'tunnel']);
  }
  return p;
}

function copyTimeouts(dst: Timeouts, src: Timeouts, keys: Array<keyof Timeouts>): void {
  for (const k of keys) if (src[k] !== undefined) dst[k] = src[k];
}

/** The section defines TCP/HTTP rules (which restricts who may inherit from it). */
export function hasRules(p: ProxyDraft): boolean {
  return p.httpRequestRules.length + p.httpResponseRules.length + p.httpAfterResponseRules.length > 0;
}

/** HAProxy's name for a proxy's type in messages (proxy.c proxy_cap_str). */
export function proxyTypeStr(p: Pick<ProxyDraft, 'kind'>): string {
  return p.kind === 'listen' ? 'proxy' : p.kind;
}

/** Keeps the condition of a rule as tokens (compiled by the ACL engine). */
export function conditionFrom(args: string[], index: number, loc: SourceLoc): ConditionSpec | undefined {
  const w = args[index];
  if (w !== 'if' && w !== 'unless') return undefined;
  return { polarity: w, tokens: args.slice(index + 1), loc };
}

/** Characters HAProxy accepts in proxy, server and ACL names (tools.c invalid_char). */
export function invalidChar(name: string): string | undefined {
  for (const c of name) if (!/[A-Za-z0-9_.:-]/.test(c)) return c;
  return undefined;
}
