// The ACL engine: sample fetches, converters, pattern matching, ACLs and conditions, compiled
// once from the configuration and evaluated per request without compiling or building anything.
// Pure: no sockets; the stream gives what fetches read through SampleCtx. Other folders import
// this file only.

// Keyword modules register themselves when imported.
import './fetch-http.js';
import './fetch-misc.js';
import './vars.js';
import './conv-str.js';
import './conv-enc.js';
import './conv-num.js';
import './map.js';

import { type CompiledExpr, ExprError, LogDir, parseSampleExpr, type SampleExpr } from './expr.js';
import { FileCache } from './files.js';
import { SmpOpt } from './sample.js';
import { currentPlace, formatScopeMessage, Place, placesOf } from './scope.js';
import { AclError, type CompileOptions, type SampleCtx } from './types.js';

export type { SampleCtx, SampleValue, VarScope, CompileOptions, SampleRef } from './types.js';
export { AclError } from './types.js';
export { AclTable, AclResult, compileAcls, PREDEFINED_ACLS, type AclDef, type AclEntry, type AclWarning } from './acl.js';
export { compileCondition, type Condition, type CondOptions } from './cond.js';
export type { SampleExpr } from './expr.js';
export { FileCache } from './files.js';
export {
  atPlace,
  currentPlace,
  exprScopeMessage,
  formatScopeMessage,
  httpRulePlace,
  Place,
  placeName,
  quoteFormatRest,
  sourceNames,
  Use,
} from './scope.js';
export { checkRefs, type RefError, type RefLookup } from './refs.js';
export { parseVarName, type VarDesc } from './vars.js';
export {
  ArgCheckError,
  PatMatch,
  registerAclKeyword,
  registerConverter,
  registerFetch,
  registeredKeywords,
  type AclKeywordDef,
  type CompileCtx,
  type ConvDef,
  type FetchDef,
} from './registry.js';
export { ArgT, NO_ARGS, type ArgSpec, type ArgValue } from './args.js';
export { Meth, Sample, SmpF, SmpOpt, SmpT, castSample, sampleToValue, valueToSample } from './sample.js';

/** Options of compileSampleExpr. */
export interface SampleExprOptions extends CompileOptions {
  /** Where the expression is written, for messages and references. */
  file?: string;
  line?: number;
  /** Pattern and map files shared with the rest of the configuration load. */
  files?: FileCache;
  /**
   * The place the expression is evaluated at (Place bits; default: the one set by atPlace, else
   * none): a fetch that cannot be used there is refused with SampleScopeError.
   */
  where?: number;
}

/**
 * A fetch used where its data is not available. The message is HAProxy's for a log-format item
 * (the log module wraps it); `use` lets other places word it their way (exprScopeMessage).
 */
export class SampleScopeError extends AclError {
  constructor(
    text: string,
    readonly use: number,
    file: string,
    line: number,
  ) {
    super(formatScopeMessage(text, use), file, line, 'plain');
  }
}

/**
 * Compiles a sample expression such as `req.hdr(host),lower,field(1,:)` (the inside of `%[...]`
 * or a rule argument). Throws AclError (kind 'plain') with HAProxy's message, SampleScopeError
 * when the fetch cannot be used at the place of the expression.
 */
export function compileSampleExpr(text: string, opts: SampleExprOptions = {}): SampleExpr {
  const files = opts.files ?? new FileCache(opts.baseDir);
  const file = opts.file ?? '';
  const line = opts.line ?? 0;
  const cc = { baseDir: files.baseDir, file, line, files, refs: [], fromAcl: false, kw: '', conv: '' };
  let e: CompiledExpr;
  try {
    e = parseSampleExpr([text], 0, cc, opts.dir === 'res' ? SmpOpt.DirRes : 0, false);
  } catch (err) {
    if (err instanceof ExprError) throw new AclError(err.message, file, line, 'plain');
    throw err;
  }
  const where = opts.where ?? currentPlace();
  if (where !== undefined) {
    const usable = placesOf(e.use) & where;
    if (usable === 0) throw new SampleScopeError(text, e.use, file, line);
    // A log-format item is tried on each side of the exchange it can be used on.
    e.logDirs = (usable & Place.Request ? LogDir.Req : 0) | (usable & Place.Response ? LogDir.Res : 0);
  }
  return e;
}

/** What a log-format sample item evaluates to (the log module's SampleValue). */
export type LogSampleFn = (ctx: unknown) => string | null;

/**
 * A compiler for the log module's `%[...]` items (registerSampleCompiler): compiles with
 * compileSampleExpr and evaluates as HAProxy's log formats do (request first, then response, on
 * the sides the place allows). The place is `opts.where`, else the one set by atPlace, else a
 * traffic log line's. The `ctx` passed at run time must be the stream's SampleCtx.
 */
export function createLogSampleCompiler(opts: SampleExprOptions = {}): (expr: string) => LogSampleFn {
  return (text: string) => {
    const e = compileSampleExpr(text, { ...opts, where: opts.where ?? currentPlace() ?? Place.FeLogEnd });
    return (ctx: unknown) => e.evalLogString(ctx as SampleCtx);
  };
}

/** Text of an AclError as HAProxy prints it after "parsing [file:line] : ". */
export function aclErrorText(e: AclError): string {
  return e.kind === 'acl' ? `error detected while parsing ACL '${e.aclName}' : ${e.message}.` : e.message;
}
