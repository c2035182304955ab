// Responses sluice builds itself for rules (HAProxy's http_reply): `return`, `deny`, `tarpit`,
// `auth`, `redirect`. A reply is kept as a message (status, header fields, body) so that
// http-after-response rules can still rewrite it, and as HTTP/1.1 bytes built once for the
// common cases. Header names are lower case, as HAProxy writes the replies it builds.

import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { BodyKind, type HtxResponse } from '../../htx/index.js';
import { ERROR_CODES, errorPage } from '../../core/errors.js';
import { checkErrorMessage } from '../../config/errorfile.js';
import { atol } from '../../config/units.js';
import { compileRuleString, type RuleString, type RuleStringOptions } from './lf.js';
import { httpReason, toBytes } from './text.js';
import type { RuleContext } from './types.js';

const EMPTY = Buffer.alloc(0);

/** A complete response produced by sluice. Immutable; its wire forms are built on first use. */
export class HttpReply {
  private readonly wire: (Buffer | undefined)[] = [undefined, undefined, undefined, undefined];

  constructor(
    readonly status: number,
    readonly reason: string,
    /** 11, or 10 for an errorfile written as HTTP/1.0. */
    readonly version: number,
    /** Header fields in order, flat ([name, value, ...]), names in lower case. */
    readonly headers: readonly string[],
    readonly body: Buffer,
    /** An errorfile without Content-Length: the body ends with the connection. */
    readonly unframed: boolean,
    /** An empty errorfile: HAProxy sends nothing at all and closes. */
    readonly silent: boolean,
  ) {}

  /**
   * HTTP/1.1 bytes. `close` announces `connection: close` (forced for unframed replies); an
   * HTTP/1.0 reply on a connection kept alive announces `connection: keep-alive`. `headOnly`
   * leaves the body out (answer to HEAD) but keeps the announced length.
   */
  bytes(close: boolean, headOnly: boolean): Buffer {
    const k = (close ? 1 : 0) | (headOnly ? 2 : 0);
    let b = this.wire[k];
    if (b === undefined) {
      b = this.build(close || this.unframed, headOnly);
      this.wire[k] = b;
    }
    return b;
  }

  private build(close: boolean, headOnly: boolean): Buffer {
    if (this.silent) return EMPTY;
    let head = (this.version === 10 ? 'HTTP/1.0 ' : 'HTTP/1.1 ') + this.status + ' ' + this.reason + '\r\n';
    const h = this.headers;
    for (let i = 0; i < h.length; i += 2) head += h[i] + ': ' + h[i + 1] + '\r\n';
    if (close) head += 'connection: close\r\n';
    else if (this.version === 10) head += 'connection: keep-alive\r\n';
    head += '\r\n';
    const hb = Buffer.from(head, 'latin1');
    return headOnly || this.body.length === 0 ? hb : Buffer.concat([hb, this.body]);
  }

  /** A new message holding this reply, for http-after-response rules (the caller owns it). */
  toHtx(): HtxResponse {
    const cl = this.unframed ? -1 : this.body.length;
    return {
      status: this.status,
      reason: this.reason,
      version: this.version,
      headers: this.headers.slice(),
      bodyKind: this.unframed ? BodyKind.UntilClose : this.body.length > 0 ? BodyKind.Length : BodyKind.None,
      contentLength: cl,
      wantClose: this.unframed,
    };
  }
}

// ---- errorfiles and default error pages ----

/** Parses a checked error message (http_str_to_htx): CRLF or LF lines, names lowered, values trimmed. */
function parseMessage(raw: Buffer): HttpReply {
  if (raw.length === 0) return new HttpReply(0, '', 11, [], EMPTY, true, true);
  const text = raw.toString('latin1');
  let end = text.length;
  let bodyStart = text.length;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '\n') continue;
    if (text[i + 1] === '\n') {
      end = i + 1;
      bodyStart = i + 2;
      break;
    }
    if (text[i + 1] === '\r' && text[i + 2] === '\n') {
      end = i + 1;
      bodyStart = i + 3;
      break;
    }
  }
  const lines = text.slice(0, end).split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const first = lines[0]!;
  const sp1 = first.indexOf(' ');
  const sp2 = first.indexOf(' ', sp1 + 1);
  const version = first.slice(0, sp1) === 'HTTP/1.0' ? 10 : 11;
  const status = Number(first.slice(sp1 + 1, sp2 < 0 ? first.length : sp2));
  const reason = sp2 < 0 ? '' : first.slice(sp2 + 1);
  const headers: string[] = [];
  let framed = false;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.length === 0) continue;
    const c = l.indexOf(':');
    const name = l.slice(0, c).toLowerCase();
    // Connection management belongs to the connection that sends the reply.
    if (name === 'connection') continue;
    if (name === 'content-length') framed = true;
    headers.push(name, l.slice(c + 1).trim());
  }
  const bodyless = status === 204 || status === 304;
  return new HttpReply(status, reason, version, headers, raw.subarray(bodyStart), !framed && !bodyless, false);
}

const parsedFiles = new WeakMap<Buffer, HttpReply>();
const defaultReplies = new Map<number, HttpReply>();

/**
 * The proxy's error message for `status`: its errorfile when `errorfiles` has one, otherwise
 * HAProxy's default page (the statuses of ERROR_CODES). Built once per file and status.
 */
export function errorReply(status: number, errorfiles?: ReadonlyMap<number, Buffer>): HttpReply {
  const custom = errorfiles?.get(status);
  if (custom !== undefined) {
    let r = parsedFiles.get(custom);
    if (r === undefined) {
      r = parseMessage(custom);
      parsedFiles.set(custom, r);
    }
    return r;
  }
  let r = defaultReplies.get(status);
  if (r === undefined) {
    r = parseMessage(errorPage(status).raw);
    defaultReplies.set(status, r);
  }
  return r;
}

/**
 * Adds `name: value` at the end of a reply's fields after removing any of that name (the auth
 * challenge); a new reply.
 */
export function withHeader(r: HttpReply, name: string, value: string): HttpReply {
  const h: string[] = [];
  for (let i = 0; i < r.headers.length; i += 2) if (r.headers[i] !== name) h.push(r.headers[i]!, r.headers[i + 1]!);
  h.push(name, value);
  return new HttpReply(r.status, r.reason, r.version, h, r.body, r.unframed, r.silent);
}

// ---- the reply arguments of return, deny and tarpit (http_parse_http_reply) ----

/** Thrown for an argument HAProxy refuses; the message is HAProxy's. */
export class ReplyError extends Error {}

export interface ReplyEnv extends RuleStringOptions {
  baseDir?: string | undefined;
  errorfiles?: ReadonlyMap<number, Buffer> | undefined;
  /**
   * The http-errors sections by name, for `errorfiles <name>`. Absent while the configuration is
   * still being read (a section may come later): the reply is then a placeholder, and
   * `errorfilesRef` hears of the reference so that it can be checked once every section is known.
   */
  httpErrors?: ReadonlyMap<string, ReadonlyMap<number, Buffer>> | undefined;
  errorfilesRef?(section: string, status: number): void;
  bufsize: number;
  maxrewrite: number;
  warn(message: string): void;
}

/** A reply to build per request from its compiled parts, or a constant one. */
export class ReplyTemplate {
  constructor(
    readonly status: number,
    /** The reply when nothing in it is dynamic, else null. */
    readonly constant: HttpReply | null,
    private readonly ctype: string | null,
    private readonly hdrs: ReadonlyArray<readonly [string, RuleString]>,
    /** A payload known at compile time, or a log-format one (at most one of them). */
    private readonly raw: Buffer | null,
    private readonly lf: RuleString | null,
    /**
     * The reply is the proxy's error message for `status` (deny/tarpit without a payload,
     * default-errorfiles): the stream resolves it per request, the backend's message first, then
     * the frontend's (http-error, errorfile), as HAProxy's http_error_message.
     */
    readonly errmsg = false,
  ) {}

  /** The reply for this request. */
  build(ctx: RuleContext): HttpReply {
    if (this.constant !== null) return this.constant;
    return assemble(this.status, this.ctype, this.hdrs, this.raw, this.lf, ctx);
  }
}

/** http_reply_to_htx for explicit payloads: custom fields, then length, then type. */
function assemble(
  status: number,
  ctype: string | null,
  hdrs: ReadonlyArray<readonly [string, RuleString]>,
  raw: Buffer | null,
  lf: RuleString | null,
  ctx: RuleContext | null,
): HttpReply {
  const headers: string[] = [];
  for (const [name, value] of hdrs) {
    const v = ctx === null ? value.constant! : value.render(ctx);
    // HAProxy leaves a field out when its value comes out empty.
    if (v.length > 0) headers.push(name, v);
  }
  let payload: Buffer = EMPTY;
  if (raw !== null) payload = raw;
  else if (lf !== null) payload = Buffer.from(ctx === null ? lf.constant! : lf.render(ctx), 'latin1');
  // A 204 or 304 has no body and announces no length (HAProxy's http_reply_to_htx).
  if (status !== 204 && status !== 304) headers.push('content-length', String(payload.length));
  if (payload.length > 0 && ctype !== null) headers.push('content-type', ctype);
  return new HttpReply(status, httpReason(status), 11, headers, payload, false, false);
}

/**
 * The reply of `errorfiles <section>` for `status`: the section's message, or, when the section
 * has none for it, an empty reply with that status (HAProxy warns at start-up and sends that).
 */
function sectionReply(env: ReplyEnv, section: string, status: number): HttpReply {
  env.errorfilesRef?.(section, status);
  const files = env.httpErrors?.get(section);
  if (files === undefined) return errorReply(status);
  return files.has(status) ? errorReply(status, files) : assemble(status, null, [], null, null, null);
}

function resolvePath(env: ReplyEnv, file: string): string {
  return isAbsolute(file) || env.baseDir === undefined ? file : resolve(env.baseDir, file);
}

/** Reads an `errorfile` argument (http_load_errorfile): checked, truncated to bufsize. */
function loadErrorfile(env: ReplyEnv, file: string): HttpReply {
  let data: Buffer;
  try {
    data = readFileSync(resolvePath(env, file));
  } catch {
    throw new ReplyError(`error opening file '${file}'.`);
  }
  if (data.length > env.bufsize) {
    env.warn(`custom error message file '${file}' larger than ${env.bufsize} bytes. Truncating.`);
    data = data.subarray(0, env.bufsize);
  }
  const err = checkErrorMessage(data);
  if (err !== undefined) throw new ReplyError(`'${file}': ${err}`);
  return parseMessage(data);
}

/** Reads a `file`/`lf-file` argument: at most bufsize bytes. */
function loadPayload(env: ReplyEnv, file: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(resolvePath(env, file));
  } catch {
    throw new ReplyError(`error opening file '${file}'`);
  }
  if (data.length > env.bufsize) throw new ReplyError(`file '${file}' exceeds the buffer size (${data.length} > ${env.bufsize})`);
  return data;
}

const enum Kind {
  Empty,
  ErrMsg,
  ErrFiles,
  Raw,
  LogFmt,
}

/**
 * Parses the reply arguments starting at words[start] (status, content-type, string, file,
 * lf-string, lf-file, errorfile, default-errorfiles, hdr) and stops at the first other word.
 * Returns the template and the index of that word. Throws ReplyError with HAProxy's text.
 */
export function parseReply(words: readonly string[], start: number, defaultStatus: number, env: ReplyEnv): { reply: ReplyTemplate; next: number } {
  let status = defaultStatus;
  let ctype: string | null = null;
  let kind = Kind.Empty;
  let actArg = '';
  let errmsg: HttpReply | null = null;
  let section = '';
  let raw: Buffer | null = null;
  let lfText: string | null = null;
  // Header values are compiled as they are read, so that their errors come first, as in HAProxy.
  const hdrs: Array<readonly [string, RuleString]> = [];
  let i = start;
  const arg = (k: number): string => words[k] ?? '';
  const payload = (w: string): void => {
    if (kind !== Kind.Empty) throw new ReplyError(`unexpected '${w}' argument, '${actArg}' already defined`);
    actArg = w;
  };
  for (;;) {
    const w = arg(i);
    if (w === '') break;
    if (w === 'status') {
      if (arg(i + 1) === '') throw new ReplyError(`'${w}' expects <status_code> as argument`);
      status = atol(arg(i + 1));
      if (status < 200 || status > 599) throw new ReplyError(`Unexpected status code '${status}'`);
      i += 2;
    } else if (w === 'content-type') {
      if (arg(i + 1) === '') throw new ReplyError(`'${w}' expects <ctype> as argument`);
      ctype = arg(i + 1);
      i += 2;
    } else if (w === 'errorfiles') {
      payload(w);
      if (arg(i + 1) === '') throw new ReplyError(`'${w}' expects <name> as argument`);
      section = arg(i + 1);
      kind = Kind.ErrFiles;
      i += 2;
    } else if (w === 'default-errorfiles') {
      payload(w);
      kind = Kind.ErrMsg;
      i += 1;
    } else if (w === 'errorfile') {
      payload(w);
      if (arg(i + 1) === '') throw new ReplyError(`'${w}' expects <fmt> as argument`);
      errmsg = loadErrorfile(env, arg(i + 1));
      kind = Kind.ErrMsg;
      i += 2;
    } else if (w === 'file' || w === 'lf-file') {
      payload(w);
      if (arg(i + 1) === '') throw new ReplyError(`'${w}' expects <file> as argument`);
      const data = loadPayload(env, arg(i + 1));
      if (w === 'file') {
        raw = data;
        kind = Kind.Raw;
      } else {
        lfText = data.toString('utf8');
        kind = Kind.LogFmt;
      }
      i += 2;
    } else if (w === 'string' || w === 'lf-string') {
      payload(w);
      if (arg(i + 1) === '') throw new ReplyError(`'${w}' expects ${w === 'string' ? '<str>' : '<fmt>'} as argument`);
      if (w === 'string') {
        raw = Buffer.from(arg(i + 1), 'utf8');
        kind = Kind.Raw;
      } else {
        lfText = arg(i + 1);
        kind = Kind.LogFmt;
      }
      i += 2;
    } else if (w === 'hdr') {
      if (arg(i + 1) === '' || arg(i + 2) === '') throw new ReplyError(`'${w}' expects <name> and <value> as arguments`);
      const name = arg(i + 1);
      const lname = name.toLowerCase();
      if (lname === 'content-length' || lname === 'transfer-encoding' || lname === 'content-type') {
        env.warn(`header '${name}' always ignored by the http reply.`);
      } else {
        hdrs.push([toBytes(lname), compileRuleString(arg(i + 2), env)]);
      }
      i += 3;
    } else {
      break;
    }
  }

  let lf: RuleString | null = null;
  switch (kind) {
    case Kind.Empty:
      if (ctype !== null) {
        env.warn(`content-type '${ctype}' ignored by the http reply because neither errorfile nor payload defined.`);
        ctype = null;
      }
      break;
    case Kind.ErrMsg:
    case Kind.ErrFiles:
      if (errmsg === null && !ERROR_CODES.includes(status)) {
        throw new ReplyError(`status code '${status}' not handled by default with '${actArg}' argument.`);
      }
      if (ctype !== null) env.warn(`content-type '${ctype}' ignored by the http reply when used with an erorrfile.`);
      if (hdrs.length > 0) env.warn('hdr parameters ignored by the http reply when used with an erorrfile.');
      if (kind === Kind.ErrFiles) return { reply: new ReplyTemplate(status, sectionReply(env, section, status), null, [], null, null), next: i };
      return { reply: new ReplyTemplate(status, errmsg ?? errorReply(status, env.errorfiles), null, [], null, null, errmsg === null), next: i };
    case Kind.Raw: {
      const len = raw!.length;
      if ((status === 204 || status === 304) && len > 0) throw new ReplyError(`No body expected for ${status} responses`);
      if (ctype === null && len > 0) throw new ReplyError('a content type must be defined when non-empty payload is configured');
      if (ctype !== null && len === 0) {
        env.warn(`content-type '${ctype}' ignored by the http reply when used with an empty payload.`);
        ctype = null;
      }
      if (env.bufsize - len < env.maxrewrite) {
        env.warn(
          'http reply payload runs over the buffer space reserved to headers rewriting. ' +
            'It may lead to internal errors if strict rewriting mode is enabled.',
        );
      }
      break;
    }
    case Kind.LogFmt:
      if (status === 204 || status === 304) throw new ReplyError(`No body expected for ${status} responses`);
      if (ctype === null) throw new ReplyError('a content type must be defined with a log-format payload');
      lf = compileRuleString(lfText!, env);
      break;
  }
  const ct = ctype === null ? null : toBytes(ctype);
  const constant = hdrs.every(([, v]) => v.constant !== null) && (lf === null || lf.constant !== null);
  return {
    reply: new ReplyTemplate(status, constant ? assemble(status, ct, hdrs, raw, lf, null) : null, ct, hdrs, raw, lf),
    next: i,
  };
}
