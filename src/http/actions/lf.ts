// Log-format strings in rule arguments (header values, paths, redirect targets, return bodies):
// compiled once with the log module, rendered per request only when they have dynamic parts.
//
// Two differences from traffic log lines, both HAProxy's (parse_logformat_string called with
// LOG_OPT_HTTP only): spaces are kept as written, and an empty value prints nothing, not "-".
// `%[...]` samples are evaluated in the rule's direction (a response rule's `hdr()` reads the
// response) and their output is made safe for a header field.
//
// `%` aliases (%ci, %b, %HU...) read a LogRecord. A rule has no record of its own: the string is
// rendered against one shared scratch record, refilled before each use from the SampleCtx fields
// (addresses, names, the request line) and then by RuleContext.fillLogRecord for what only the
// stream knows (timers, server, unique id). Rendering is synchronous, so one record is enough, and
// strings without aliases never touch it.

import { compileSampleExpr, type FileCache, type SampleCtx, type SampleRef } from '../../acl/index.js';
import { compileLogFormat, formatLogLine, newLogRecord, type LogFormat, type LogRecord } from '../../log/index.js';
import { fromBytes, toBytes } from './text.js';
import type { RuleContext } from './types.js';

/** How a rule string is compiled. */
export interface RuleStringOptions {
  /** Direction `%[...]` samples read: 'res' for http-response and http-after-response. */
  dir: 'req' | 'res';
  /** HTTP-safe encoding of sample output (LOG_OPT_HTTP); false for set-var-fmt. */
  http: boolean;
  file: string;
  line: number;
  baseDir?: string | undefined;
  files?: FileCache | undefined;
  /** Receives the backend/server/frontend references of the samples. */
  refs: SampleRef[];
}

/** A compiled rule string. */
export class RuleString {
  constructor(
    /** The text as written. */
    readonly source: string,
    /** The rendered value when the string has no dynamic part, else null. */
    readonly constant: string | null,
    private readonly fmt: LogFormat | null,
    /** The string uses `%` aliases, which need the scratch LogRecord. */
    readonly usesAliases: boolean,
  ) {}

  /** The value for this request (the constant itself when there is nothing dynamic). */
  render(ctx: RuleContext): string {
    if (this.constant !== null) return this.constant;
    return formatLogLine(this.fmt!, this.usesAliases ? fillScratch(ctx) : SCRATCH, ctx);
  }
}

/** Compiles `text`; throws an Error whose message is HAProxy's (LogFormatError). */
export function compileRuleString(text: string, o: RuleStringOptions): RuleString {
  const compiler = (expr: string): ((ctx: unknown) => string | null) => {
    // The format was compiled from byte strings; the sample engine wants configuration text.
    const e = compileSampleExpr(fromBytes(expr), { file: o.file, line: o.line, baseDir: o.baseDir, files: o.files, dir: o.dir });
    for (const r of e.refs) o.refs.push(r);
    return (ctx: unknown) => e.evalString(ctx as SampleCtx);
  };
  const fmt = compileLogFormat(toBytes(text), { mandatory: false, mergeSpaces: false, httpEncode: o.http, sampleCompiler: compiler });
  // Nodes of a compiled format: literal text has a non-empty text and no function, an alias has
  // an empty text, a sample has its compiled function.
  let dynamic = false;
  let aliases = false;
  for (const n of fmt.nodes) {
    if (n.fn !== null) dynamic = true;
    else if (n.text === '') dynamic = aliases = true;
  }
  if (!dynamic) return new RuleString(text, formatLogLine(fmt, SCRATCH), null, false);
  return new RuleString(text, null, fmt, aliases);
}

const BLANK: Readonly<LogRecord> = Object.freeze(newLogRecord());
// Shared by every refill: frozen so that a fillLogRecord pushing into them fails loudly.
Object.freeze(BLANK.capturedReqHeaders);
Object.freeze(BLANK.capturedResHeaders);
const KEYS = Object.keys(BLANK) as (keyof LogRecord)[];
const SCRATCH: LogRecord = newLogRecord();

function versionText(v: number): string {
  return v === 10 ? 'HTTP/1.0' : v === 20 ? 'HTTP/2.0' : v === 9 ? 'HTTP/0.9' : 'HTTP/1.1';
}

function fillScratch(ctx: RuleContext): LogRecord {
  const rec = SCRATCH as unknown as Record<string, unknown>;
  for (let i = 0; i < KEYS.length; i++) rec[KEYS[i]!] = BLANK[KEYS[i]!];
  const r = SCRATCH;
  r.http = true;
  r.clientIp = ctx.srcAddr;
  r.clientPort = ctx.srcPort;
  r.frontendIp = ctx.dstAddr;
  r.frontendPort = ctx.dstPort;
  r.frontendName = ctx.feName;
  r.ssl = ctx.sslFc;
  // Until a backend is chosen HAProxy's stream backend is the frontend itself.
  r.backendName = ctx.beName || ctx.feName;
  r.feconn = ctx.feConn('');
  r.beconn = ctx.beConn('');
  r.status = ctx.res !== null ? ctx.res.status : ctx.status > 0 ? ctx.status : -1;
  const req = ctx.req;
  if (req !== null) {
    r.method = req.method;
    r.uri = req.uri;
    r.httpVersion = versionText(req.version);
    r.requestLine = req.method + ' ' + req.uri + ' ' + r.httpVersion;
  }
  if (ctx.fillLogRecord !== undefined) ctx.fillLogRecord(r);
  return r;
}
