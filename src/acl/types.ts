// The contracts of the ACL engine: what the stream gives to sample fetches (SampleCtx), what a
// sample is once it leaves the engine (SampleValue), and the error type of compilation.
//
// Strings are byte strings: one character per byte (latin1), as the HTTP/1 codec produces them
// and as the serializer writes them back. Patterns and arguments read from the configuration
// (UTF-8 text) are converted to byte strings when compiled, so that "é" in a configuration
// matches the two bytes of "é" in a header.

import type { HtxRequest, HtxResponse } from '../htx/index.js';

/** Variable scopes, as HAProxy names them (`txn.foo`). */
export type VarScope = 'proc' | 'sess' | 'txn' | 'req' | 'res' | 'check';

/**
 * A sample as it leaves the engine (`SampleExpr.eval`) or is stored in a variable. Addresses are
 * in text form ("192.0.2.1", "2001:db8::1"); `bin` holds raw bytes.
 */
export type SampleValue =
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'sint'; readonly value: number }
  | { readonly type: 'ipv4'; readonly value: string }
  | { readonly type: 'ipv6'; readonly value: string }
  | { readonly type: 'str'; readonly value: string }
  | { readonly type: 'bin'; readonly value: Buffer }
  | { readonly type: 'meth'; readonly value: string };

/**
 * What sample fetches read, implemented by the stream (or by a health check, a test). Fetches
 * call it on the hot path: the fields are read directly and the methods must not allocate.
 * Names of frontends/backends passed to the methods are "" for "the current one".
 */
export interface SampleCtx {
  /** The request being processed (null in TCP mode). */
  readonly req: HtxRequest | null;
  /** The response, once its head has arrived (null before). */
  readonly res: HtxResponse | null;
  /** Status of the response being produced when `res` is null (sluice's own responses), else 0. */
  readonly status: number;
  /** Client address as text ("192.0.2.1", "::1", "::ffff:192.0.2.1") and port. */
  readonly srcAddr: string;
  readonly srcPort: number;
  /** Address and port the client connected to (the frontend side of the connection). */
  readonly dstAddr: string;
  readonly dstPort: number;
  /** The client connection is TLS, and the SNI it sent ("" when none). */
  readonly sslFc: boolean;
  readonly sslSni: string;
  readonly feName: string;
  /** "" until a backend is chosen. */
  readonly beName: string;
  /** Request body bytes received and buffered so far (HTTP), or request bytes buffered (TCP). */
  readonly reqBodyBytes: number;
  /**
   * The request body bytes buffered so far, as a latin1 string (what `req.body` returns: all of
   * it after wait-for-body), or null when none is held. Optional: contexts without a body omit it.
   */
  reqBody?(): string | null;
  /** The same for the response body held while response rules wait for it. */
  resBody?(): string | null;
  /** Current connections of a frontend ("" = this one). */
  feConn(frontend: string): number;
  /** Current connections of a backend ("" = the current one). */
  beConn(backend: string): number;
  /** Usable servers of a backend ("" = the current one). */
  nbsrv(backend: string): number;
  /** A server is up ("" backend = the current one). */
  srvIsUp(backend: string, server: string): boolean;
  getVar(scope: VarScope, name: string): SampleValue | undefined;
  setVar(scope: VarScope, name: string, value: SampleValue): void;
  unsetVar(scope: VarScope, name: string): void;
  /** Environment variable lookup (process.env semantics). */
  env(name: string): string | undefined;
}

/** Options shared by the compile entry points. */
export interface CompileOptions {
  /** Directory that relative -f and map file names are resolved against (default: the cwd). */
  baseDir?: string;
  /**
   * Direction of the rules the compiled object serves: 'res' for http-response and
   * http-after-response, where `hdr()` and `cookie()` read the response. Default 'req'.
   */
  dir?: 'req' | 'res';
}

/**
 * A backend, server or frontend named in a fetch argument (nbsrv(be), srv_is_up(be/srv),
 * be_conn(be)...). HAProxy resolves them once the whole configuration is read; the caller does
 * the same with these (see `describeUnresolvedRef`).
 */
export interface SampleRef {
  kind: 'backend' | 'server' | 'frontend';
  /** Proxy name; "" = the proxy holding the rule. */
  proxy: string;
  /** Server name (kind 'server'). */
  server: string;
  /** Fetch keyword and, when the argument belongs to a converter, its name. */
  kw: string;
  conv: string;
  /** 0-based argument position. */
  argPos: number;
  /** Referenced from an ACL keyword or from a plain sample expression. */
  fromAcl: boolean;
  file: string;
  line: number;
}

/** A compilation error: `message` is HAProxy's text for the failing part, without location. */
export class AclError extends Error {
  override readonly name = 'AclError';
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
    /**
     * How a configuration parser reports it: 'acl' errors are wrapped as HAProxy does
     * ("error detected while parsing ACL '<name>' : <message>."), 'plain' ones are printed as is.
     */
    readonly kind: 'acl' | 'plain' = 'acl',
    /** The ACL name for 'acl' errors. */
    readonly aclName = '',
  ) {
    super(message);
  }
}
