// The contracts of HTTP rule actions: what a compiled rule needs from the stream (RuleContext),
// what it answers (Verdict), and how a rule that cannot be compiled is reported (HttpRuleError).

import type { Condition, SampleCtx, SampleRef } from '../../acl/index.js';
import type { HtxRoom } from '../../htx/index.js';
import type { LogRecord } from '../../log/index.js';
import type { HttpReply } from './reply.js';
import type { UserlistRef } from './auth-fetch.js';

/** Which rule list a rule belongs to. */
export type RuleDir = 'request' | 'response' | 'after-response';

/**
 * What rules read and change. The stream implements it (it already is the SampleCtx); `req` and
 * `res` are the live messages that actions rewrite in place (headers, method, uri, status).
 */
export interface RuleContext extends SampleCtx {
  /** The request body, if any, has completely arrived (end of message seen). */
  readonly reqComplete: boolean;
  /** The response body, if any, has completely arrived. */
  readonly resComplete: boolean;
  /** Response body bytes received and buffered so far. */
  readonly resBodyBytes: number;
  /**
   * Bytes of body the stream is willing to buffer (HAProxy: bufsize - maxrewrite); wait-for-body
   * stops waiting once this much is buffered.
   */
  readonly bodyLimit: number;
  /**
   * `option http-use-proxy-header` is set and the request target is not origin-form: `auth` answers
   * 407 with Proxy-Authenticate and the http_auth fetches read Proxy-Authorization.
   */
  readonly useProxyAuth: boolean;
  /**
   * `strict-mode off` was applied in the rule list being run (HAProxy's soft rewrites): a failed
   * rewrite is then skipped. The runner sets it back to false when a list starts.
   */
  softRewrites?: boolean;
  /**
   * Optional: the buffer accounting of the request (`response` false) or the response, as
   * HAProxy's buffer would hold it; a rewrite it does not take fails. Null or absent: no limit.
   */
  htxRoom?(response: boolean): HtxRoom | null;
  /** Optional: a rewrite failed (HAProxy's failed_rewrites counters), even one that is skipped. */
  rewriteFailed?(): void;
  /** `set-log-level`: syslog level 0..7, or -1 for "silent". */
  setLogLevel(level: number): void;
  /** `disable-l7-retry`: only connection failures may be retried from now on. */
  disableL7Retry(): void;
  /** `capture <expr> len <n>`: stores the (already truncated) value in request capture `slot`. */
  setCapture(slot: number, value: string): void;
  /**
   * Optional: fills the LogRecord fields that `%` aliases of rule strings read and that SampleCtx
   * does not carry (dates, timers, server, unique id, counters). Called only for strings that use
   * such aliases, after the fields SampleCtx provides were filled. Assign fields (arrays too:
   * the record's arrays are shared and frozen), never keep `rec`.
   */
  fillLogRecord?(rec: LogRecord): void;
  /**
   * Optional: runs `build` with the server's response out of sight (no `res`, no status), as
   * HAProxy empties the response channel before it builds a reply of deny, return or tarpit.
   */
  withoutResponse?<T>(build: () => T): T;
}

/** What a rule tells the stream to do next. */
export const enum VerdictKind {
  /** Go on with the next rule. */
  Continue = 0,
  /** `allow`: stop evaluating this rule list, and go on with the request/response. */
  Stop = 1,
  /** Send `reply` to the client instead of going on (return, deny, redirect, auth). */
  Answer = 2,
  /** `tarpit`: hold the request for `timeout tarpit`, then send `reply` (termination "PT"). */
  Tarpit = 3,
  /**
   * `wait-for-body`: the stream must wait until the body is complete, `atLeast` bytes are
   * buffered, `bodyLimit` is reached or `time` ms passed, then run the rules again from the same
   * rule (index in `lastRuleIndex` after runHttpRules). On timeout the stream answers 408
   * (request, "cD") or 504 (response, "sD") itself, as HAProxy does.
   */
  WaitForBody = 4,
  /**
   * A rewrite failed: the stream answers 500 and closes ("PR" for requests, "PH" responses);
   * after `strict-mode off` the runner skips it instead (but not STRICT_REWRITE_ERROR).
   */
  Error = 5,
}

export interface ContinueVerdict {
  readonly kind: VerdictKind.Continue;
}

export interface StopVerdict {
  readonly kind: VerdictKind.Stop;
}

export interface AnswerVerdict {
  readonly kind: VerdictKind.Answer;
  /** Status of the answer (also txn status for logs). */
  readonly status: number;
  readonly reply: HttpReply;
  /** Termination cause letter: 'L' answered locally (return, redirect, auth), 'P' denied by the proxy. */
  readonly cause: 'L' | 'P';
  /** The client connection must close after the answer (request body still coming, unframed reply). */
  readonly close: boolean;
  /** Counts as a denied request/response (deny) rather than an intercepted one (return, redirect, auth). */
  readonly denied: boolean;
  /** `reply` is the default error message for `status`: the stream answers with the proxy's own. */
  readonly errmsg?: boolean;
}

export interface TarpitVerdict {
  readonly kind: VerdictKind.Tarpit;
  readonly status: number;
  readonly reply: HttpReply;
  /** As AnswerVerdict.errmsg. */
  readonly errmsg?: boolean;
}

export interface WaitForBodyVerdict {
  readonly kind: VerdictKind.WaitForBody;
  /** Maximum wait in ms. */
  readonly time: number;
  /** Stop waiting once this many body bytes are buffered; 0 = the whole body. */
  readonly atLeast: number;
}

export interface ErrorVerdict {
  readonly kind: VerdictKind.Error;
}

export type Verdict = ContinueVerdict | StopVerdict | AnswerVerdict | TarpitVerdict | WaitForBodyVerdict | ErrorVerdict;

/** The shared verdicts: rules return these objects, never copies. */
export const CONTINUE: ContinueVerdict = Object.freeze({ kind: VerdictKind.Continue });
export const STOP: StopVerdict = Object.freeze({ kind: VerdictKind.Stop });
export const REWRITE_ERROR: ErrorVerdict = Object.freeze({ kind: VerdictKind.Error });
/** A failed rewrite that `strict-mode off` does not excuse (set-status: HAProxy reads the request's mode). */
export const STRICT_REWRITE_ERROR: ErrorVerdict = Object.freeze({ kind: VerdictKind.Error });

/** A compiled rule. Its structures are built once; exec allocates only dynamic strings. */
export interface HttpRule {
  readonly dir: RuleDir;
  /** The action word as written ("set-header", "set-var(txn.x)"). */
  readonly action: string;
  /** Null when the rule has no `if`/`unless`. */
  readonly cond: Condition | null;
  readonly file: string;
  readonly line: number;
  /** The rule ends its list when it applies and has no condition: later rules never run. */
  readonly final: boolean;
  /** Backends, servers and frontends named by its expressions (check with checkRefs). */
  readonly refs: readonly SampleRef[];
  /** The `where` text HAProxy uses for those references ("in http-request expression in"). */
  readonly refWhere: string;
  /** `capture ... len N`: the length of the slot it declared (through where.declareCapture), else 0. */
  readonly captureLen: number;
  /** Userlists named by http_auth fetches of the rule: bind them with resolveUserlistRefs. */
  readonly userlistRefs: readonly UserlistRef[];
  /** Tests the condition, then applies the action. */
  exec(ctx: RuleContext): Verdict;
}

/** Where a rule is written and what it may use while being compiled. */
export interface RuleWhere {
  file: string;
  line: number;
  /** Directory relative `file`/`errorfile` arguments are resolved against (default: the cwd). */
  baseDir?: string;
  /**
   * The ACLs of the proxy (named ones declared so far); conditions are compiled against it.
   * Without it, only predefined and anonymous ACLs can be used.
   */
  acls?: import('../../acl/index.js').AclTable;
  /** Pattern and map files shared with the rest of the load. */
  files?: import('../../acl/index.js').FileCache;
  /** The proxy holding the rule, for messages ("proxy 'x' has no frontend capability"). */
  proxyName?: string;
  /** The proxy has the frontend side (frontend, listen). Default true. */
  frontend?: boolean;
  /** `errorfile` messages of the proxy (status -> file contents), for deny/tarpit/auth answers. */
  errorfiles?: ReadonlyMap<number, Buffer>;
  /** The http-errors sections, and who hears of `errorfiles` references (see ReplyEnv). */
  httpErrors?: ReadonlyMap<string, ReadonlyMap<number, Buffer>>;
  errorfilesRef?(section: string, status: number): void;
  /** tune.bufsize (default 16384): `file` payloads larger than it are refused. */
  bufsize?: number;
  /** tune.maxrewrite (default 1024): payloads leaving less room than it get a warning. */
  maxrewrite?: number;
  /**
   * Declares a request capture slot of `len` bytes for `capture ... len`, returning its index
   * (HAProxy's nb_req_cap++). Required to compile `capture ... len` (a TypeError otherwise).
   */
  declareCapture?(len: number): number;
  /** Receives warnings (HAProxy's text after "parsing [file:line] : "). */
  warn?(message: string): void;
}

/**
 * A rule HAProxy would refuse. `kind` says how a configuration parser frames `message`:
 * - 'rule': "error detected in <proxy-type> '<name>' while parsing '<dir> <action>' rule : <message>."
 * - 'condition': "error detected while parsing an '<dir> <action>' condition : <message>."
 * - 'trailing': "'<dir> <action>' expects either 'if' or 'unless' followed by a condition but found '<word>'." (message = word)
 * - 'unknown': the action is not known for this direction (message = the action word).
 */
export class HttpRuleError extends Error {
  override readonly name = 'HttpRuleError';
  constructor(
    message: string,
    readonly kind: 'rule' | 'condition' | 'trailing' | 'unknown',
    /** The action word as written, as HAProxy names it in the message. */
    readonly action: string,
  ) {
    super(message);
  }
}
