// Sample expressions: a fetch and a chain of converters ("req.hdr(host),lower,field(1,:)"),
// compiled once (HAProxy's sample_parse_expr) and evaluated on a working sample owned by the
// expression, so that evaluation allocates only the strings it produces.

import { ArgListError, parseArgList, type ArgSpec, type ArgValue } from './args.js';
import {
  ArgCheckError,
  type CompileCtx,
  type ConvDef,
  type FetchDef,
  fetchUse,
  findConverter,
  findFetch,
  idEnd,
} from './registry.js';
import { canCast, castSample, Sample, sampleToValue, SmpOpt, SmpT } from './sample.js';
import type { SampleCtx, SampleRef, SampleValue } from './types.js';

/** A compiled sample expression (`%[...]` in formats, rule arguments). */
export interface SampleExpr {
  /** The expression as written. */
  readonly text: string;
  /** Backends, servers and frontends its arguments name (see describeRefError). */
  readonly refs: readonly SampleRef[];
  /** The sample, copied out of the engine (allocates), or null when there is none. */
  eval(ctx: SampleCtx): SampleValue | null;
  /** The sample converted to a string, or null when there is none or it has no string form. */
  evalString(ctx: SampleCtx): string | null;
  /**
   * Like evalString, the way log-format items are evaluated: on the request first, then, if that
   * gives nothing, on the response; only in the directions the place of the item has (a log line
   * sees the response side only).
   */
  evalLogString(ctx: SampleCtx): string | null;
}

/** Directions of evalLogString (HAProxy's LOG_OPT_REQ_CAP / LOG_OPT_RES_CAP). */
export const enum LogDir {
  Req = 1,
  Res = 2,
}

/** A compilation error of an expression; the message is HAProxy's. */
export class ExprError extends Error {}

interface ConvStep {
  def: ConvDef<unknown>;
  p: unknown;
}

/** Converts configuration text (UTF-8) to the byte-string form samples have. */
export function toBytes(s: string): string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return Buffer.from(s, 'utf8').toString('latin1');
  return s;
}

/** Inverse of toBytes, for file names. */
export function fromBytes(s: string): string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return Buffer.from(s, 'latin1').toString('utf8');
  return s;
}

export class CompiledExpr implements SampleExpr {
  /** The working sample, reused by every evaluation. */
  readonly smp = new Sample();
  /** Sources of the fetch (scope.ts Use bits): where it may be used. */
  readonly use: number;
  /** Directions evalLogString tries, set at compile time from the place of the expression. */
  logDirs: number = LogDir.Req | LogDir.Res;

  constructor(
    readonly text: string,
    readonly fetch: FetchDef<unknown>,
    readonly fp: unknown,
    readonly convs: readonly ConvStep[],
    /** Output type known at configuration time. */
    readonly outType: SmpT,
    /** SmpOpt.DirRes for expressions of response rules, else 0. */
    readonly dirOpt: number,
    readonly refs: readonly SampleRef[],
  ) {
    this.use = fetchUse(fetch.name);
  }

  /** Fetches then converts into `smp` (HAProxy's sample_process); false = no sample. */
  process(ctx: SampleCtx, opt: number, smp: Sample): boolean {
    if (!this.fetch.fetch(ctx, this.fp, smp, opt)) return false;
    const convs = this.convs;
    for (let i = 0; i < convs.length; i++) {
      const c = convs[i]!;
      if (!castSample(smp, c.def.inType)) return false;
      if (!c.def.conv(ctx, c.p, smp)) return false;
    }
    return true;
  }

  eval(ctx: SampleCtx): SampleValue | null {
    const s = this.smp;
    s.reset();
    if (!this.process(ctx, this.dirOpt | SmpOpt.Final, s)) return null;
    return sampleToValue(s);
  }

  evalString(ctx: SampleCtx): string | null {
    return this.stringIn(ctx, this.dirOpt);
  }

  evalLogString(ctx: SampleCtx): string | null {
    const dirs = this.logDirs;
    const r = dirs & LogDir.Req ? this.stringIn(ctx, 0) : null;
    return r === null && dirs & LogDir.Res ? this.stringIn(ctx, SmpOpt.DirRes) : r;
  }

  private stringIn(ctx: SampleCtx, dir: number): string | null {
    const s = this.smp;
    s.reset();
    if (!this.process(ctx, dir | SmpOpt.Final, s)) return null;
    if (!castSample(s, SmpT.Str)) return null;
    return s.str;
  }
}

/** Parses an argument list, turning string arguments into byte strings. */
function argsOf(text: string, start: number, spec: ArgSpec): { args: ArgValue[]; end: number } {
  const r = parseArgList(text, start, spec);
  for (let i = 0; i < r.args.length; i++) {
    const a = r.args[i];
    if (typeof a === 'string') r.args[i] = toBytes(a);
  }
  return r;
}

function prepare(def: FetchDef<unknown> | ConvDef<unknown>, args: ArgValue[], cc: CompileCtx): unknown {
  return def.prepare ? def.prepare(args, cc) : args;
}

/**
 * Messages differ between a plain sample expression and the converters following an ACL
 * keyword (the latter are prefixed with "ACL keyword '<kw>' :" and end with a period).
 */
interface Wording {
  aclKw: string | null;
}

function convError(w: Wording, msg: string): ExprError {
  return new ExprError(w.aclKw === null ? msg : `ACL keyword '${w.aclKw}' : ${msg}.`);
}

/**
 * Parses the converters following a fetch in `words[wi]` from `pos`. With `nextWords`, a word
 * after the expression that names a converter is taken as one more converter, as HAProxy does
 * for ACLs written as plain fetches ("req.hdr(x) lower ...").
 */
function parseConverters(
  words: readonly string[],
  wi: number,
  pos: number,
  fkw: string,
  type: SmpT,
  cc: CompileCtx,
  w: Wording,
  nextWords: boolean,
): { convs: ConvStep[]; type: SmpT } {
  const convs: ConvStep[] = [];
  let text = words[wi]!;
  let ckw = '';
  for (;;) {
    if (pos < text.length && text[pos] !== ',') {
      if (w.aclKw !== null) throw convError(w, ckw ? `missing comma after converter '${ckw}'` : 'missing comma after fetch keyword');
      throw new ExprError(ckw ? `missing comma after converter '${ckw}'` : `missing comma after fetch keyword '${fkw}'`);
    }
    while (text[pos] === ',') pos++;
    let fromNextWord = false;
    if (pos >= text.length) {
      if (!nextWords || wi + 1 >= words.length || words[wi + 1] === '') break;
      text = words[++wi]!;
      pos = 0;
      fromNextWord = true;
    }
    const ce = idEnd(text, pos);
    ckw = text.slice(pos, ce);
    const def = findConverter(ckw);
    if (!def) {
      if (fromNextWord) break;
      throw convError(w, `unknown converter '${ckw}'`);
    }
    if (!canCast(type, def.inType)) throw convError(w, `converter '${ckw}' cannot be applied`);
    type = def.outType;
    cc.conv = ckw;
    let parsed: { args: ArgValue[]; end: number };
    try {
      parsed = argsOf(text, ce, def.args);
    } catch (e) {
      if (!(e instanceof ArgListError)) throw e;
      throw convError(w, `invalid arg ${e.pos + 1} in converter '${ckw}' : ${e.message}`);
    }
    let p: unknown;
    try {
      p = prepare(def, parsed.args, cc);
    } catch (e) {
      if (!(e instanceof ArgCheckError)) throw e;
      throw convError(w, `invalid args in converter '${ckw}' : ${e.message}`);
    }
    convs.push({ def, p });
    pos = parsed.end;
  }
  cc.conv = '';
  return { convs, type };
}

/** Compiles the expression in words[wi] (HAProxy's sample_parse_expr); throws ExprError. */
export function parseSampleExpr(
  words: readonly string[],
  wi: number,
  cc: CompileCtx,
  dirOpt: number,
  nextWords: boolean,
): CompiledExpr {
  const w = words[wi] ?? '';
  const e = idEnd(w, 0);
  if (e === 0) throw new ExprError('missing fetch method');
  const fkw = w.slice(0, e);
  const fetch = findFetch(fkw);
  if (!fetch) throw new ExprError(`unknown fetch method '${fkw}'`);
  cc.kw = fkw;
  cc.conv = '';
  const refsBefore = cc.refs.length;
  let parsed: { args: ArgValue[]; end: number };
  try {
    parsed = argsOf(w, e, fetch.args);
  } catch (err) {
    if (!(err instanceof ArgListError)) throw err;
    throw new ExprError(`fetch method '${fkw}' : ${err.message}`);
  }
  let fp: unknown;
  try {
    fp = prepare(fetch, parsed.args, cc);
  } catch (err) {
    if (!(err instanceof ArgCheckError)) throw err;
    throw new ExprError(`invalid args in fetch method '${fkw}' : ${err.message}`);
  }
  const { convs, type } = parseConverters(words, wi, parsed.end, fkw, fetch.outType, cc, { aclKw: null }, nextWords);
  return new CompiledExpr(w, fetch, fp, convs, type, dirOpt, cc.refs.slice(refsBefore));
}

/**
 * Compiles an ACL keyword's expression: the keyword's fetch with the arguments written after the
 * keyword, then converters. Messages follow HAProxy's parse_acl_expr.
 */
export function parseAclKeywordExpr(
  word: string,
  aclKw: string,
  fetch: FetchDef<unknown>,
  cc: CompileCtx,
  dirOpt: number,
): { expr: CompiledExpr; convFound: boolean } {
  const e = idEnd(word, 0);
  cc.kw = fetch.name;
  cc.conv = '';
  const refsBefore = cc.refs.length;
  let parsed: { args: ArgValue[]; end: number };
  try {
    parsed = argsOf(word, e, fetch.args);
  } catch (err) {
    if (!(err instanceof ArgListError)) throw err;
    throw new ExprError(`ACL keyword '${aclKw}' : ${err.message}`);
  }
  let fp: unknown;
  try {
    fp = prepare(fetch, parsed.args, cc);
  } catch (err) {
    if (!(err instanceof ArgCheckError)) throw err;
    throw new ExprError(`in argument to '${aclKw}', ${err.message}`);
  }
  const { convs, type } = parseConverters([word], 0, parsed.end, fetch.name, fetch.outType, cc, { aclKw }, false);
  const expr = new CompiledExpr(word, fetch, fp, convs, type, dirOpt, cc.refs.slice(refsBefore));
  return { expr, convFound: convs.length > 0 };
}
