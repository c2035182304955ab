// Registries of sample fetches, converters and ACL keywords. Each area (HTTP, layer 4, TLS,
// stick tables later) registers its keywords; the expression parser only looks names up here.

import type { ArgSpec, ArgValue } from './args.js';
import type { FileCache } from './files.js';
import type { Sample, SmpT } from './sample.js';
import { FETCH_USE } from './scope.js';
import type { SampleCtx, SampleRef } from './types.js';

/** Pattern matching methods (HAProxy's PAT_MATCH_*), plus the method matcher of `method`. */
export const enum PatMatch {
  Found = 0,
  Bool = 1,
  Int = 2,
  Ip = 3,
  Bin = 4,
  Len = 5,
  Str = 6,
  Beg = 7,
  Sub = 8,
  Dir = 9,
  Dom = 10,
  End = 11,
  Reg = 12,
  Regm = 13,
  Meth = 14,
}

/** What argument checks (`prepare`) may need at compile time. */
export interface CompileCtx {
  /** Resolves relative file names. */
  readonly baseDir: string;
  readonly file: string;
  readonly line: number;
  /** Pattern and map files already read during this compilation. */
  readonly files: FileCache;
  /** Backend/server/frontend names used by arguments, to be checked once all are known. */
  readonly refs: SampleRef[];
  /** Compiling an ACL keyword (changes the wording of messages and of references). */
  readonly fromAcl: boolean;
  /** Keyword being compiled, and converter ("" for the fetch itself). */
  kw: string;
  conv: string;
}

/** Thrown by `prepare` when arguments are invalid; the message is HAProxy's val_args text. */
export class ArgCheckError extends Error {}

/**
 * A sample fetch. `fetch` fills `smp` and returns false when there is no sample; a multi-value
 * fetch sets SmpF.NotLast while more values may follow and keeps its cursor in smp.c0..c3.
 */
export interface FetchDef<P = ArgValue[]> {
  readonly name: string;
  readonly args: ArgSpec;
  readonly outType: SmpT;
  /** Validates and prepares the arguments once (HAProxy's val_args); throws ArgCheckError. */
  prepare?(args: ArgValue[], cc: CompileCtx): P;
  fetch(ctx: SampleCtx, p: P, smp: Sample, opt: number): boolean;
}

/** A converter: transforms `smp` (already cast to `inType`) in place; false = no sample. */
export interface ConvDef<P = ArgValue[]> {
  readonly name: string;
  readonly args: ArgSpec;
  readonly inType: SmpT;
  readonly outType: SmpT;
  prepare?(args: ArgValue[], cc: CompileCtx): P;
  conv(ctx: SampleCtx, p: P, smp: Sample): boolean;
}

/** An ACL-only keyword: a fetch with an implied match method (`path_beg` = `path` -m beg). */
export interface AclKeywordDef {
  readonly name: string;
  readonly fetch: string;
  readonly match: PatMatch;
}

// The registries hold definitions of any argument shape; each definition's prepare and
// fetch/conv agree on it, which the generic register functions check at the call site.
type AnyFetch = FetchDef<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type AnyConv = ConvDef<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const fetches = new Map<string, AnyFetch>();
const converters = new Map<string, AnyConv>();
const aclKeywords = new Map<string, AclKeywordDef>();

const fetchUses = new Map<string, number>();

/**
 * Adds or replaces a sample fetch. Its sources (where it may be used) come from FETCH_USE in
 * scope.ts, which must name it: a fetch without them could not be checked against its place.
 */
export function registerFetch<P>(def: FetchDef<P>): void {
  const use = FETCH_USE[def.name];
  if (use === undefined) throw new Error(`sample fetch '${def.name}' has no entry in FETCH_USE (src/acl/scope.ts)`);
  fetches.set(def.name, def);
  fetchUses.set(def.name, use);
}

/** The sources of a registered fetch (Use bits). */
export function fetchUse(name: string): number {
  return fetchUses.get(name) ?? 0;
}

/** Adds or replaces a converter. */
export function registerConverter<P>(def: ConvDef<P>): void {
  converters.set(def.name, def);
}

/** Adds or replaces an ACL keyword (its fetch must be registered by the time it is used). */
export function registerAclKeyword(def: AclKeywordDef): void {
  aclKeywords.set(def.name, def);
}

export function findFetch(name: string): FetchDef<unknown> | undefined {
  return fetches.get(name);
}

export function findConverter(name: string): ConvDef<unknown> | undefined {
  return converters.get(name);
}

export function findAclKeyword(name: string): AclKeywordDef | undefined {
  return aclKeywords.get(name);
}

/** Names of every registered fetch, converter and ACL keyword (documentation, tests). */
export function registeredKeywords(): { fetches: string[]; converters: string[]; aclKeywords: string[] } {
  return { fetches: [...fetches.keys()], converters: [...converters.keys()], aclKeywords: [...aclKeywords.keys()] };
}

/** Characters of keyword names (HAProxy's is_idchar). */
export function isIdChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 46 ||
    c === 95 ||
    c === 45 ||
    c === 43 ||
    c === 58
  );
}

/** Index of the first character after the keyword name starting at `start`. */
export function idEnd(s: string, start: number): number {
  let i = start;
  while (i < s.length && isIdChar(s.charCodeAt(i))) i++;
  return i;
}
