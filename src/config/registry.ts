// The keyword registry. Each area of sluice registers the configuration keywords it implements
// (a name, where it is allowed, a parse function writing into the section being built); the
// dispatcher looks them up, and falls back to the lists of HAProxy keywords that sluice knows
// but does not implement yet (known-keywords.ts) to tell "not supported yet" from "unknown".
//
// Later features add keywords by calling the register* functions at import time, before the
// first configuration is loaded. A later registration of the same name replaces the earlier one.

import type { ConditionSpec, SourceLoc } from './model.js';
import type { DiagnosticFrame, LineReporter } from './diagnostics.js';
import type { BindDraft, ParserState, ProxyDraft, ResolversDraft, ServerDraft, ServerSettings } from './state.js';

export type KeywordModifier = 'none' | 'no' | 'default';

export interface KeywordContext {
  /** The words of the line; args[0] is the keyword (after any "no"/"default" prefix). */
  args: string[];
  modifier: KeywordModifier;
  loc: SourceLoc;
  report: LineReporter;
  state: ParserState;
}

export interface ProxyContext extends KeywordContext {
  proxy: ProxyDraft;
  /** The defaults section `proxy` was initialised from. */
  defaults: ProxyDraft;
}

export interface ResolversContext extends KeywordContext {
  resolvers: ResolversDraft;
}

/** Which side of a proxy a keyword configures (HAProxy's PR_CAP_FE / PR_CAP_BE). */
export type ProxyCap = 'fe' | 'be' | 'any';

export interface GlobalKeyword {
  name: string;
  /** Accepts the "no" (and "default") prefix. */
  modifiers?: boolean;
  parse(ctx: KeywordContext): void;
}

export interface ProxyKeyword {
  name: string;
  /** The capability the keyword needs; elsewhere HAProxy warns "'x' ignored because ...". */
  cap: ProxyCap;
  /** Text appended to the capability warning, e.g. " Maybe you want 'fullconn' instead ?". */
  capHint?: string;
  /** Allowed in defaults sections: yes, no, or only in named ones. */
  inDefaults: boolean | 'named';
  /** How HAProxy frames the "not allowed in 'defaults' section" alert for this keyword. */
  defaultsAlert?: DiagnosticFrame;
  modifiers?: boolean;
  parse(ctx: ProxyContext): void;
}

export interface ResolversKeyword {
  name: string;
  parse(ctx: ResolversContext): void;
}

/** `option <name>` in proxies. */
export interface OptionDef {
  name: string;
  cap: ProxyCap;
  /** Accepts "no option" / "default option". */
  negatable: boolean;
  /** Only meaningful in HTTP mode: dropped with a warning from TCP proxies. */
  httpOnly?: boolean;
  parse(ctx: ProxyContext): void;
}

export interface BindOptionContext extends ProxyContext {
  bind: BindDraft[];
  /** Index of the option in args. */
  cur: number;
}

export interface BindOptionDef {
  name: string;
  /** Number of arguments after the keyword. */
  args: number;
  /** Error text, or undefined when accepted. */
  parse(ctx: BindOptionContext): string | undefined;
}

export interface ServerOptionContext extends ProxyContext {
  /** The server being built, or the default-server settings. */
  target: ServerSettings;
  server?: ServerDraft;
  isDefault: boolean;
  cur: number;
}

export interface ServerOptionDef {
  name: string;
  /** Number of arguments after the keyword. */
  args: number;
  /** Allowed on default-server lines. */
  defaultOk: boolean;
  /** Error text, or undefined when accepted. */
  parse(ctx: ServerOptionContext): string | undefined;
}

/**
 * Checks a rule condition once the ACL engine exists; returns an error text, undefined when
 * accepted, or HAProxy's warning when accepted with one (an ACL that cannot match at `where`,
 * the place of the rule as the ACL engine's Place bits). Until one is registered, rules with
 * conditions are refused as not supported yet.
 */
export type ConditionChecker = (cond: ConditionSpec, ctx: ProxyContext, where?: number) => string | { warning: string } | undefined;

/**
 * Sample expressions checked at the place they are evaluated at (`where`: the ACL engine's
 * Place bits), once the ACL engine exists.
 */
export interface SampleChecks {
  /** A log-format string: HAProxy's error text, or undefined when valid. */
  format(fmt: string, mode: 'http' | 'tcp', where: number): string | undefined;
  /**
   * A lone sample expression: its error text, or the names of the sources it reads when none of
   * them is available at `where`; undefined when valid.
   */
  expr(text: string, where: number): { error: string } | { needs: string } | undefined;
}

/**
 * Checks a log-format string once the log feature can compile them; returns an error text or
 * undefined. Until one is registered, formats are stored unchecked.
 */
export type LogFormatChecker = (format: string, mode: 'http' | 'tcp') => string | undefined;

const globalKeywords = new Map<string, GlobalKeyword>();
const proxyKeywords = new Map<string, ProxyKeyword>();
const resolversKeywords = new Map<string, ResolversKeyword>();
const options = new Map<string, OptionDef>();
const bindOptions = new Map<string, BindOptionDef>();
const serverOptions = new Map<string, ServerOptionDef>();
let conditionChecker: ConditionChecker | undefined;
let aclLineChecker: AclLineChecker | undefined;

/** Checks one `acl` line once the ACL engine exists; returns an alert text or undefined. */
export type AclLineChecker = (name: string, args: string[], ctx: ProxyContext) => string | undefined;

/** Registers the checker of `acl` lines. */
export function registerAclLineChecker(fn: AclLineChecker): void {
  aclLineChecker = fn;
}

export function getAclLineChecker(): AclLineChecker | undefined {
  return aclLineChecker;
}
let logFormatChecker: LogFormatChecker | undefined;

/** Adds or replaces keywords of the global section. */
export function registerGlobalKeywords(defs: GlobalKeyword[]): void {
  for (const d of defs) globalKeywords.set(d.name, d);
}

/** Adds or replaces keywords of defaults, frontend, backend and listen sections. */
export function registerProxyKeywords(defs: ProxyKeyword[]): void {
  for (const d of defs) proxyKeywords.set(d.name, d);
}

/** Adds or replaces keywords of resolvers sections. */
export function registerResolversKeywords(defs: ResolversKeyword[]): void {
  for (const d of defs) resolversKeywords.set(d.name, d);
}

/** Adds or replaces `option` names. */
export function registerOptions(defs: OptionDef[]): void {
  for (const d of defs) options.set(d.name, d);
}

/**
 * A section kind other than global, proxies and resolvers (`userlist`, `http-errors`...): `open`
 * reads the header line and returns the section's state, or undefined when it refused it (its
 * lines are then ignored); `line` reads each line of the section.
 */
export interface SectionDef {
  name: string;
  open(ctx: KeywordContext): unknown;
  line(ctx: KeywordContext, section: unknown): void;
}

const sections = new Map<string, SectionDef>();
const postChecks: Array<(state: ParserState) => void> = [];

/** Adds or replaces a section kind. */
export function registerSection(def: SectionDef): void {
  sections.set(def.name, def);
}

export function findSection(name: string): SectionDef | undefined {
  return sections.get(name);
}

/**
 * Adds a check run once every file was read, before the configuration is built: what needs the
 * whole configuration (references to sections declared later).
 */
export function registerPostCheck(fn: (state: ParserState) => void): void {
  postChecks.push(fn);
}

export function runPostChecks(state: ParserState): void {
  for (const fn of postChecks) fn(state);
}

/** Adds or replaces options of `bind` lines. */
export function registerBindOptions(defs: BindOptionDef[]): void {
  for (const d of defs) bindOptions.set(d.name, d);
}

/** Adds or replaces options of `server` and `default-server` lines. */
export function registerServerOptions(defs: ServerOptionDef[]): void {
  for (const d of defs) serverOptions.set(d.name, d);
}

/** Installs the ACL engine's condition checker. */
export function registerConditionChecker(fn: ConditionChecker): void {
  conditionChecker = fn;
}

/** Installs the log feature's log-format checker. */
export function registerLogFormatChecker(fn: LogFormatChecker): void {
  logFormatChecker = fn;
}

export function getLogFormatChecker(): LogFormatChecker | undefined {
  return logFormatChecker;
}

let sampleChecks: SampleChecks | undefined;

/** Installs the ACL engine's checks of sample expressions by place. */
export function registerSampleChecks(c: SampleChecks): void {
  sampleChecks = c;
}

export function getSampleChecks(): SampleChecks | undefined {
  return sampleChecks;
}

/**
 * Checks a log-format string evaluated at `where` (ACL engine Place bits): by place when the
 * ACL engine is there, else for its syntax only. HAProxy's error text, or undefined.
 */
export function checkLogFormatAt(fmt: string, mode: 'http' | 'tcp', where: number): string | undefined {
  return sampleChecks !== undefined ? sampleChecks.format(fmt, mode, where) : logFormatChecker?.(fmt, mode);
}

export function findGlobalKeyword(name: string): GlobalKeyword | undefined {
  return globalKeywords.get(name);
}
export function findProxyKeyword(name: string): ProxyKeyword | undefined {
  return proxyKeywords.get(name);
}
export function findResolversKeyword(name: string): ResolversKeyword | undefined {
  return resolversKeywords.get(name);
}
export function findOption(name: string): OptionDef | undefined {
  return options.get(name);
}
export function findBindOption(name: string): BindOptionDef | undefined {
  return bindOptions.get(name);
}
export function findServerOption(name: string): ServerOptionDef | undefined {
  return serverOptions.get(name);
}
export function getConditionChecker(): ConditionChecker | undefined {
  return conditionChecker;
}

/** Registered names, for "did you mean" suggestions and the documentation. */
export function registeredNames(kind: 'global' | 'proxy' | 'resolvers' | 'option' | 'bind' | 'server'): string[] {
  const m = {
    global: globalKeywords,
    proxy: proxyKeywords,
    resolvers: resolversKeywords,
    option: options,
    bind: bindOptions,
    server: serverOptions,
  }[kind];
  return [...m.keys()];
}

/**
 * HAProxy's "did you mean" heuristic (tools.c make_word_fingerprint): words are compared by the
 * counts of their letter-to-letter transitions, and the closest candidate wins unless it is
 * further than twice the length of either word.
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const fw = fingerprint(word);
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = distance(fw, fingerprint(c));
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  if (best === undefined || bestDist > 2 * word.length || bestDist > 2 * best.length) return undefined;
  return best;
}

function fingerprint(word: string): Uint8Array {
  const fp = new Uint8Array(1024);
  let from = 28;
  for (const ch of word.toLowerCase()) {
    let to: number;
    if (ch >= 'a' && ch <= 'z') to = ch.charCodeAt(0) - 96;
    else if (ch >= '0' && ch <= '9') to = 27;
    else to = 28;
    fp[to] = 1;
    fp[32 * from + to]++;
    from = to;
  }
  fp[32 * from + 28]++;
  return fp;
}

function distance(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < 1024; i++) d += Math.abs(a[i] - b[i]);
  return d;
}
