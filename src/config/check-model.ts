// The health-check part of the frozen model: a backend's check ruleset (`option httpchk`,
// `option tcp-check`, `http-check ...`, `tcp-check ...`) and a server's check settings. The
// parser delivers rulesets complete: HAProxy's implicit rules are already in (a leading
// `connect default`, the `option httpchk` request merged into the first `http-check send`, the
// closing `expect status 200-399`), so src/check runs them as they are.

import type { SourceLoc } from './model.js';

/** HAProxy's check status names (check_statuses[] in src/check.c). */
export type CheckStatusName =
  | 'L4OK' | 'L4TOUT' | 'L4CON'
  | 'L6OK' | 'L6TOUT' | 'L6RSP'
  | 'L7OK' | 'L7OKC' | 'L7TOUT' | 'L7RSP' | 'L7STS'
  | 'SOCKERR' | 'HANA';

/** An IP address for `addr` (check or agent address). */
export interface CheckAddr {
  host: string;
  family: 4 | 6;
  /** A port written with the address (`addr 10.0.0.1:8080`): used when no `port` says otherwise. */
  port?: number;
}

/** `tcp-check connect` / `http-check connect`. */
export interface CheckConnectRule {
  kind: 'connect';
  /** `default`: the server's check settings fill what the rule does not say. */
  useDefault: boolean;
  port?: number;
  addr?: CheckAddr;
  sendProxy: boolean;
  ssl: boolean;
  sni?: string;
  alpn?: string[];
  /** Close with a FIN instead of a reset. */
  linger: boolean;
  proto?: 'h1' | 'h2';
  comment?: string;
  /** Inserted by HAProxy (no connect rule was written first): its step is 0, it reports no info. */
  implicit?: boolean;
  /** HAProxy's step number for messages ("... at step N"). */
  step?: number;
  loc: SourceLoc;
}

/** An HTTP check request (`http-check send`, `option httpchk`); unset parts take HAProxy's defaults. */
export interface CheckHttpRequest {
  /** Default OPTIONS. */
  meth?: string;
  /** Default "/". `uriLf`: the URI is a log-format string. */
  uri?: string;
  uriLf: boolean;
  /** Default HTTP/1.0. */
  ver?: string;
  /** Header values are log-format strings. */
  hdrs: Array<{ name: string; value: string }>;
  body?: string;
  bodyLf: boolean;
}

/** `tcp-check send|send-lf|send-binary|send-binary-lf` or `http-check send`. */
export interface CheckSendRule {
  kind: 'send';
  /** tcp-check: the text (hex digits for binary); `lf`: a log-format string. */
  data?: { text: string; binary: boolean; lf: boolean };
  /** http-check. */
  http?: CheckHttpRequest;
  comment?: string;
  /** HAProxy's step number for messages. */
  step?: number;
  loc: SourceLoc;
}

export type CheckMatchMethod = 'str' | 'beg' | 'end' | 'sub' | 'reg';

/** `tcp-check expect` / `http-check expect`. */
export interface CheckExpectRule {
  kind: 'expect';
  negate: boolean;
  type: 'status' | 'rstatus' | 'hdr' | 'fhdr' | 'string' | 'rstring' | 'string-lf' | 'binary' | 'rbinary' | 'binary-lf';
  /** The pattern as written (a regex for rstatus/rstring/rbinary, hex for binary). */
  pattern: string;
  /** `status`: the accepted codes as inclusive ranges. */
  codes?: Array<[number, number]>;
  /**
   * `hdr` / `fhdr`: the header name match, and the value match when a value is given (`name-lf` /
   * `value-lf` are already evaluated: sluice accepts only constant ones). A `reg` name match is
   * case-insensitive, a `reg` value match case-sensitive, as in HAProxy.
   */
  hdr?: { name: string; nameMatch: CheckMatchMethod; value?: string; valueMatch: CheckMatchMethod };
  /** -1: not set. */
  minRecv: number;
  okStatus: CheckStatusName;
  errorStatus: CheckStatusName;
  /**
   * `error-status` was written. Without it, `errorStatus` is the default of the match type and an
   * empty response fails with L7RSP whatever the type (HAProxy's tcpcheck_eval_recv).
   */
  errorStatusSet?: boolean;
  toutStatus: CheckStatusName;
  /** Log-format strings reported as the check's info. */
  onSuccess?: string;
  onError?: string;
  comment?: string;
  /** HAProxy's step number for messages. */
  step?: number;
  loc: SourceLoc;
}

export interface CheckCommentRule {
  kind: 'comment';
  text: string;
  loc: SourceLoc;
}

export type CheckRule = CheckConnectRule | CheckSendRule | CheckExpectRule | CheckCommentRule;

/** A backend's check ruleset; absent when the backend checks at layer 4 (or 6 with TLS). */
export interface CheckRuleset {
  /** `option httpchk` / `http-check` lines (HTTP), or `option tcp-check` (raw bytes). */
  type: 'http' | 'tcp';
  /**
   * Complete: it begins with a connect, every send follows a connect, HTTP ends with an expect.
   * Comment rules are gone: as HAProxy does, their text went to the rules that follow them.
   */
  rules: CheckRule[];
  /** `http-check disable-on-404`. */
  disableOn404: boolean;
  /** `http-check send-state`. */
  sendState: boolean;
}

/** `agent-check` and its companions. */
export interface AgentSettings {
  port?: number;
  addr?: CheckAddr;
  /** `agent-inter`, ms (default 2000, whatever `inter` says). */
  inter: number;
  send?: string;
}

/** A server's check settings beyond timing (ServerConfig keeps inter/rise/fall/port). */
export interface ServerCheckSettings {
  /** `addr`: where checks connect (default: the server's address). */
  checkAddr?: CheckAddr;
  /**
   * `check-ssl` / `no-check-ssl`. The parser resolves it: without either keyword, the server's
   * `ssl`, unless `port` or `addr` is set (then no TLS).
   */
  checkSsl?: boolean;
  /** `check-sni`: a constant; the server's `sni` expression is not used by checks. */
  checkSni?: string;
  /** `check-alpn`; undefined: none of its own (HAProxy 2.6 checks share the server's TLS context, `alpn` included). */
  checkAlpn?: string[];
  /**
   * `check-proto`, resolved by the parser: for HTTP rulesets the server's `proto` when no
   * `check-proto` is given (HAProxy inherits only a mux of the check's mode); undefined: HTTP/1.1
   * for HTTP checks, raw bytes otherwise.
   */
  checkProto?: 'h1' | 'h2';
  /** `check-send-proxy`: a PROXY protocol header before the check's bytes. */
  checkSendProxy: boolean;
  /** `agent-check` with its settings; undefined without agent. */
  agent?: AgentSettings;
  /** `observe layer4|layer7`, `error-limit` (default 10), `on-error` (default fail-check). */
  observe?: 'layer4' | 'layer7';
  errorLimit: number;
  onError: 'fastinter' | 'fail-check' | 'sudden-death' | 'mark-down';
  /** `on-marked-down shutdown-sessions`, `on-marked-up shutdown-backup-sessions`. */
  onMarkedDownShutdown: boolean;
  onMarkedUpShutdownBackups: boolean;
  /** `slowstart`, ms, rounded up to whole seconds as HAProxy keeps it; 0: none. */
  slowstart: number;
  /** `init-state` (HAProxy 3.1+); undefined: `up` (UP, failing at the first failed check). */
  initState?: 'fully-up' | 'up' | 'down' | 'fully-down';
}
