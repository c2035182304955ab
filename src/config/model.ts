// The frozen configuration model: what the parser produces and what every other part reads.
// Everything is resolved here: defaults sections are already applied, times are milliseconds,
// sizes are bytes, addresses are parsed. `undefined` on a timeout means "not set" (infinite).

import type { CheckRuleset, ServerCheckSettings } from './check-model.js';
export type * from './check-model.js';

export interface SourceLoc {
  file: string;
  line: number;
}

export type Mode = 'http' | 'tcp';

/** An address as written in the configuration, parsed. */
export interface AddressSpec {
  /** Literal IP address after resolution ("0.0.0.0" / "::" for wildcard binds). */
  host: string;
  /** 4 or 6. */
  family: 4 | 6;
  /** 0 when no port was given (servers: use the client's destination port). */
  port: number;
  /** Host name as written, when it was a name and not a literal (resolved at start-up). */
  fqdn?: string;
}

export interface Timeouts {
  connect?: number;
  client?: number;
  server?: number;
  httpRequest?: number;
  httpKeepAlive?: number;
  queue?: number;
  tunnel?: number;
  clientFin?: number;
  serverFin?: number;
  check?: number;
  tarpit?: number;
}

export type LogFormatKind = 'raw' | 'rfc3164' | 'rfc5424' | 'short' | 'timed' | 'iso' | 'local' | 'priority';

/** A `log` line: where log lines go and how they are framed. */
export interface LogTarget {
  kind: 'stdout' | 'stderr' | 'udp' | 'unix';
  /** For udp. */
  host?: string;
  port?: number;
  family?: 4 | 6;
  /** For unix datagram sockets. */
  path?: string;
  format: LogFormatKind;
  /** Syslog facility number (local0 = 16 ...). */
  facility: number;
  /** Highest (least severe) level sent, 0..7; default 7 (debug). */
  maxLevel: number;
  /** Lowest level: messages more severe than this are raised to it; default 0. */
  minLevel: number;
  /** Maximum line length; default 1024. */
  len: number;
  loc: SourceLoc;
}

export interface BindConfig {
  addr: AddressSpec;
  /** Optional `name` keyword. */
  name?: string;
  /** Per-bind maxconn, 0 = unlimited. */
  maxconn: number;
  /** `v4v6` / `v6only` on IPv6 wildcard binds. */
  v6only: boolean;
  /** The raw `bind` arguments after the address, as written. */
  rawArgs: string[];
  /** `proto h1|h2`: the mux, without HTTP/2 preface sniffing or ALPN; undefined: decided per connection. */
  proto?: 'h1' | 'h2';
  /** TLS settings (`ssl`, `crt`, `alpn`, ...); terminated only when `ssl.enabled`. */
  ssl?: BindSsl;
  loc: SourceLoc;
}

/** The TLS settings of a server. */
export interface ServerSsl {
  enabled: boolean;
  /** Undefined: required (HAProxy's default, `ssl-server-verify`). */
  verify?: 'none' | 'required';
  caFile?: string;
  /** Client certificate (`crt`). */
  crt?: { cert: string; key: string };
  /** `sni`: a sample expression, as written. */
  sni?: string;
  alpn?: string[];
  verifyhost?: string;
  ciphers?: string;
  ciphersuites?: string;
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
  noVersions: TlsVersion[];
}

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** One certificate of a TLS bind, with the names it serves (SNI). */
export interface TlsCert {
  file: string;
  /** PEM chain, and the PEM private key (the same text when the file holds both). */
  cert: string;
  key: string;
  /** Lower-case server names, possibly `*.domain` wildcards. */
  names: string[];
  /** Per-certificate settings from a crt-list line. */
  ciphers?: string;
  ciphersuites?: string;
  curves?: string;
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
}

export interface BindSsl {
  /** The `ssl` keyword: terminate TLS (certificates alone do not). */
  enabled: boolean;
  /** In load order: the first is the default one. */
  certs: TlsCert[];
  /** `alpn`; undefined: HAProxy's default for HTTP (h2,http/1.1); empty: no ALPN. */
  alpn?: string[];
  ciphers?: string;
  ciphersuites?: string;
  curves?: string;
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
  /** Versions excluded by `no-tlsv1x`. */
  noVersions: TlsVersion[];
  /** `ca-file` contents, for client certificates. */
  caFile?: string;
  verify: 'none' | 'optional' | 'required';
  strictSni: boolean;
  tlsTickets: boolean;
  preferClientCiphers: boolean;
}

export type BalanceConfig =
  | { algo: 'roundrobin' }
  | { algo: 'static-rr' }
  | { algo: 'leastconn' }
  | { algo: 'first' }
  | { algo: 'source' }
  | { algo: 'uri'; len: number; depth: number; whole: boolean; pathOnly: boolean }
  | { algo: 'url_param'; param: string; checkPost: boolean }
  | { algo: 'hdr'; header: string; useDomainOnly: boolean }
  | { algo: 'random'; draws: number };

export interface HashTypeConfig {
  method: 'map-based' | 'consistent';
  fn: 'sdbm' | 'djb2' | 'wt6' | 'crc32' | 'none';
  avalanche: boolean;
}

export interface ServerConfig extends ServerCheckSettings {
  name: string;
  /** Numeric id (`id` keyword, else position 1..n in the backend). */
  id: number;
  addr: AddressSpec;
  weight: number;
  backup: boolean;
  disabled: boolean;
  /** 0 = unlimited. In HTTP mode it limits concurrent requests, excess is queued. */
  maxconn: number;
  /** 0 = unlimited queue. */
  maxqueue: number;
  /** -1 = unlimited idle connections kept; 0 = none. */
  poolMaxConn: number;
  /** ms; default 5000. */
  poolPurgeDelay: number;
  /** -1 = unlimited requests per server connection. */
  maxReuse: number;
  /** `check`: health checks run (see src/check); the backend's `checks` ruleset says which. */
  check: boolean;
  /** `inter`, `fastinter`, `downinter` (ms; the last two default to inter), `rise`, `fall`, `port`. */
  checkInter: number;
  checkFastinter?: number;
  checkDowninter?: number;
  checkRise: number;
  checkFall: number;
  checkPort?: number;
  /** `proto h2`: HTTP/2 to the server (h2c with prior knowledge); undefined: HTTP/1.1. */
  proto?: 'h1' | 'h2';
  /** `send-proxy` (1) / `send-proxy-v2` (2): a PROXY protocol header opens every connection. */
  sendProxy?: 1 | 2;
  /** TLS towards the server (`ssl` and its companions); used when `ssl.enabled`. */
  ssl?: ServerSsl;
  /** The raw keywords after the address, for later issues (check options, ssl, proto). */
  rawArgs: string[];
  loc: SourceLoc;
}

export type HttpReuse = 'never' | 'safe' | 'aggressive' | 'always';

export interface ForwardForConfig {
  /** Header name, default "X-Forwarded-For". */
  header: string;
  /** `except <network>`: source addresses in this network are not added. */
  except?: { addr: string; prefix: number; family: 4 | 6 };
  /** `if-none`: only add when the header is absent. */
  ifNone: boolean;
}

/**
 * A condition as written after `if` / `unless`, kept as tokens. The ACL engine (its own issue)
 * compiles these; until then the parser refuses rules with conditions it cannot evaluate.
 */
export interface ConditionSpec {
  polarity: 'if' | 'unless';
  tokens: string[];
  loc: SourceLoc;
}

/** An `acl NAME FETCH [flags] [operator] VALUE...` line, compiled by the ACL engine. */
export interface AclDef {
  name: string;
  /** The words after the name. */
  args: string[];
  loc: SourceLoc;
}

export interface UseBackendRule {
  backend: string;
  cond?: ConditionSpec;
  loc: SourceLoc;
}

/**
 * One `http-request`, `http-response`, `http-after-response` or `http-error` line: the words after
 * the keyword, as written. The HTTP actions module compiles them (at load time to check them,
 * and once more when the proxy starts); the model keeps no compiled state.
 */
export interface HttpRuleSpec {
  words: string[];
  loc: SourceLoc;
  /** The ACLs of the section the line is written in (a defaults section for inherited rules). */
  acls: AclDef[];
  /** The request capture slot that `capture ... len N` declared, when the rule is one. */
  captureSlot?: number;
}

/** A capture slot of a frontend: `capture request|response header NAME len N` or `http-request capture ... len N`. */
export interface CaptureSlot {
  /** Header captured by `capture ... header`; undefined for a slot filled by a rule. */
  header?: string;
  len: number;
}

/** `use-server SRV [if|unless COND]`. */
export interface UseServerRule {
  server: string;
  cond?: ConditionSpec;
  loc: SourceLoc;
}

/** A `userlist NAME` section: its `user` and `group` lines, built by the HTTP actions module. */
export interface UserlistConfig {
  name: string;
  lines: Array<{ words: string[]; loc: SourceLoc }>;
  loc: SourceLoc;
}

export interface ProxyOptions {
  forwardfor?: ForwardForConfig;
  httpServerClose: boolean;
  httpClose: boolean;
  httpKeepAlive: boolean;
  httplog: boolean;
  /** `option httplog clf`. */
  httplogClf: boolean;
  tcplog: boolean;
  allbackups: boolean;
  /** `option redispatch [interval]`: undefined when off; the interval otherwise (default -1). */
  redispatch?: number;
  dontlognull: boolean;
  logasap: boolean;
  httpBufferRequest: boolean;
  /** `option http-ignore-probes`. */
  httpIgnoreProbes: boolean;
  /** `option disable-h2-upgrade`: an HTTP/1 connection starting with the HTTP/2 preface is refused. */
  disableH2Upgrade: boolean;
  /** `option abortonclose`. */
  abortOnClose: boolean;
  /** `option log-health-checks`: every check result that changes the health counter is logged. */
  logHealthChecks: boolean;
  /** `option splice-*`, `option tcpka` etc are accepted for compatibility and have no effect. */
}

export interface ProxyConfig {
  name: string;
  /** The section keyword. A `listen` is both a frontend and a backend. */
  kind: 'frontend' | 'backend' | 'listen';
  /** Numeric id (`id` keyword or order of declaration, from 1). */
  id: number;
  mode: Mode;
  disabled: boolean;
  loc: SourceLoc;
  timeouts: Timeouts;
  logs: LogTarget[];
  /** Custom `log-format`, after `option httplog`/`tcplog` are turned into their formats; undefined = no traffic logs. */
  logFormat?: string;
  options: ProxyOptions;

  // Frontend side (frontend, listen)
  binds: BindConfig[];
  /** 0 = use the global value. */
  maxconn: number;
  defaultBackend?: string;
  useBackends: UseBackendRule[];
  httpRequestRules: HttpRuleSpec[];
  httpResponseRules: HttpRuleSpec[];
  httpAfterResponseRules: HttpRuleSpec[];
  /** `http-error status N ...`: replies replacing the error messages of the proxy. */
  httpErrors: HttpRuleSpec[];
  /** Capture slots of the frontend side, request and response. */
  reqCaptures: CaptureSlot[];
  resCaptures: CaptureSlot[];
  /** Named ACLs declared in this proxy, in order (several lines with one name are ORed). */
  acls: AclDef[];

  // Backend side (backend, listen)
  servers: ServerConfig[];
  useServers: UseServerRule[];
  balance: BalanceConfig;
  hashType: HashTypeConfig;
  /** Default 3. */
  retries: number;
  /** `retry-on`: the RetryOn flags of what may be retried (default conn-failure). */
  retryOn: number;
  httpReuse: HttpReuse;
  /** The check ruleset (`option httpchk`, `option tcp-check`, `http-check`, `tcp-check`); undefined: layer-4 checks. */
  checks?: CheckRuleset;
  /** `fullconn`, 0 = unset. */
  fullconn: number;
  /** `errorfile CODE FILE`: file contents (a full HTTP response) per status code. */
  errorfiles: Map<number, Buffer>;
}

export interface TuneConfig {
  /** tune.bufsize, default 16384. */
  bufsize: number;
  /** tune.maxrewrite, default 1024 (capped at bufsize/2). */
  maxrewrite: number;
  /** tune.http.maxhdr, default 101. */
  maxhdr: number;
  h2: H2Tune;
}

/** HTTP/2 settings of one side (client side: fe, server side: be). */
export interface H2SideTune {
  /** SETTINGS_INITIAL_WINDOW_SIZE advertised; default 65535. */
  initialWindowSize: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS; default 100 (0 in the configuration means unlimited). */
  maxConcurrentStreams: number;
}

/** The `tune.h2.*` settings, resolved per side. */
export interface H2Tune {
  /** SETTINGS_HEADER_TABLE_SIZE, 4096..65536, default 4096. */
  headerTableSize: number;
  /** SETTINGS_MAX_FRAME_SIZE, 16384..16777215, default 16384. */
  maxFrameSize: number;
  fe: H2SideTune;
  be: H2SideTune;
}

export interface GlobalConfig {
  /** 0 = not set (computed from the file descriptor limit). */
  maxconn: number;
  logs: LogTarget[];
  /** `log-tag`, default "haproxy"-like program name "sluice". */
  logTag: string;
  pidfile?: string;
  daemon: boolean;
  nbthread: number;
  /** `hard-stop-after`, ms; undefined = wait forever. */
  hardStopAfter?: number;
  /** `grace`, ms. */
  grace: number;
  /** `noreuseport`: listeners without SO_REUSEPORT (then a reload cannot bind next to the old process). */
  noReusePort: boolean;
  /** `spread-checks` percentage (0..50): random jitter added to every check interval. */
  spreadChecks: number;
  tune: TuneConfig;
  loc?: SourceLoc;
}

/** `resolvers NAME` sections: parsed now, used by DNS discovery later. */
export interface ResolversConfig {
  name: string;
  nameservers: Array<{ name: string; addr: AddressSpec }>;
  parseResolvConf: boolean;
  /** Remaining keywords as written, for the DNS issue. */
  settings: Array<{ keyword: string; args: string[]; loc: SourceLoc }>;
  loc: SourceLoc;
}

export interface Config {
  global: GlobalConfig;
  /** All frontend, backend and listen sections in declaration order. */
  proxies: ProxyConfig[];
  resolvers: ResolversConfig[];
  userlists: UserlistConfig[];
  /** `http-errors` sections by name: their messages by status, for `errorfiles` reply arguments. */
  httpErrors: Map<string, Map<number, Buffer>>;
  /** Files read, in order. */
  files: string[];
}

/** The frontends among the proxies (frontend and listen sections, not disabled). */
export function frontendsOf(cfg: Config): ProxyConfig[] {
  return cfg.proxies.filter((p) => p.kind !== 'backend' && !p.disabled);
}

/** Finds the backend (backend or listen section) called `name`. */
export function findBackend(cfg: Config, name: string): ProxyConfig | undefined {
  return cfg.proxies.find((p) => p.kind !== 'frontend' && p.name === name);
}

/**
 * `retry-on` conditions, as flags. Everything but ConnFailure is a layer-7 retry: the request has
 * reached the server, and only a request kept whole may go again.
 */
export const RetryOn = {
  ConnFailure: 1 << 0,
  EmptyResponse: 1 << 1,
  JunkResponse: 1 << 2,
  ResponseTimeout: 1 << 3,
  ZeroRttRejected: 1 << 4,
} as const;

/** The response statuses `retry-on` accepts, each with its flag (from bit 5). */
export const RETRY_STATUSES = [401, 403, 404, 408, 421, 425, 429, 500, 501, 502, 503, 504] as const;

/** The RetryOn flag of a status code, 0 for a status retry-on cannot name. */
export function retryStatusFlag(status: number): number {
  const i = (RETRY_STATUSES as readonly number[]).indexOf(status);
  return i < 0 ? 0 : 1 << (5 + i);
}

/** Flags that only apply once the request reached the server. */
export const RETRY_L7_MASK = ~RetryOn.ConnFailure;
