// From one rule line to an executable rule: finds the action for the direction (HAProxy's
// action_lookup, with prefix matching for set-var(...)), lets it parse its arguments, compiles
// the `if`/`unless` condition against the proxy's ACLs, and frames every refusal the way
// HAProxy's parse_http_req_cond / parse_http_res_cond / parse_http_after_res_cond do.

import {
  AclError,
  AclTable,
  aclErrorText,
  atPlace,
  compileCondition,
  compileSampleExpr,
  exprScopeMessage,
  httpRulePlace,
  Place,
  quoteFormatRest,
  registeredKeywords,
  SampleScopeError,
  type Condition,
  type SampleExpr,
  type SampleRef,
} from '../../acl/index.js';
import { LogFormatError } from '../../log/index.js';
import { parseAuth, parseDeny, parseReturn } from './answers.js';
import { markUserlistRefs, takeUserlistRefsSince, type UserlistRef } from './auth-fetch.js';
import { parseDelHeader, parseReplaceHeader, parseSetHeader } from './headers.js';
import { compileRuleString, type RuleString } from './lf.js';
import { parseAllow, parseCapture, parseDisableL7Retry, parseSetLogLevel, parseSetStatus, parseStrictMode, parseWaitForBody } from './misc.js';
import { isCondWord, type ActionParse, type ActionParser, type ParsedAction } from './parse.js';
import { parseRedirect } from './redirect.js';
import { ReplyError, type ReplyEnv } from './reply.js';
import { parseReplaceUri, parseSetReqLine } from './reqline.js';
import { CONTINUE, HttpRuleError, STRICT_REWRITE_ERROR, VerdictKind, type HttpRule, type RuleContext, type RuleDir, type RuleWhere, type Verdict } from './types.js';
import { parseStore } from './vars.js';

/** Actions shared by the three lists. */
const COMMON: Record<string, ActionParser> = {
  'add-header': parseSetHeader,
  allow: parseAllow,
  'del-header': parseDelHeader,
  'replace-header': parseReplaceHeader,
  'replace-value': parseReplaceHeader,
  'set-header': parseSetHeader,
  'strict-mode': parseStrictMode,
};

const ACTIONS: Record<RuleDir, Record<string, ActionParser>> = {
  request: {
    ...COMMON,
    auth: parseAuth,
    capture: parseCapture,
    deny: parseDeny,
    'disable-l7-retry': parseDisableL7Retry,
    redirect: parseRedirect,
    'replace-path': parseReplaceUri,
    'replace-pathq': parseReplaceUri,
    'replace-uri': parseReplaceUri,
    return: parseReturn,
    'set-log-level': parseSetLogLevel,
    'set-method': parseSetReqLine,
    'set-path': parseSetReqLine,
    'set-pathq': parseSetReqLine,
    'set-query': parseSetReqLine,
    'set-uri': parseSetReqLine,
    tarpit: parseDeny,
    'wait-for-body': parseWaitForBody,
  },
  response: {
    ...COMMON,
    deny: parseDeny,
    redirect: parseRedirect,
    return: parseReturn,
    'set-log-level': parseSetLogLevel,
    'set-status': parseSetStatus,
    'wait-for-body': parseWaitForBody,
  },
  'after-response': {
    ...COMMON,
    'set-status': parseSetStatus,
  },
};

/** Actions matched on a prefix of the word (KWF_MATCH_PREFIX), in HAProxy's lookup order. */
const PREFIX_ACTIONS: ReadonlyArray<readonly [string, ActionParser]> = [
  ['set-var-fmt', parseStore],
  ['set-var', parseStore],
  ['unset-var', parseStore],
];

function findAction(dir: RuleDir, word: string): ActionParser | undefined {
  for (const [prefix, parser] of PREFIX_ACTIONS) if (word.startsWith(prefix)) return parser;
  return Object.prototype.hasOwnProperty.call(ACTIONS[dir], word) ? ACTIONS[dir][word] : undefined;
}

/** The action names sluice implements for `dir`; prefix actions are listed as "set-var(*)". */
export function httpActionNames(dir: RuleDir): string[] {
  return [...Object.keys(ACTIONS[dir]), ...PREFIX_ACTIONS.map(([p]) => `${p}(*)`)];
}

/** True when `word` names an action of `dir` that sluice implements. */
export function hasHttpAction(dir: RuleDir, word: string): boolean {
  return findAction(dir, word) !== undefined;
}

/** The rule list keyword HAProxy prints ("http-request"). */
export function ruleKeyword(dir: RuleDir): string {
  return dir === 'request' ? 'http-request' : dir === 'response' ? 'http-response' : 'http-after-response';
}

let converterNames: ReadonlySet<string> | null = null;

/** Converters are registered when the ACL engine loads; the set is taken on first use. */
function isConverter(word: string): boolean {
  converterNames ??= new Set(registeredKeywords().converters);
  let end = 0;
  while (end < word.length && /[0-9A-Za-z._+:-]/.test(word[end]!)) end++;
  return end > 0 && converterNames.has(word.slice(0, end));
}

const DEFAULT_BUFSIZE = 16384;
const DEFAULT_MAXREWRITE = 1024;

/** The sides of the proxy holding a rule: a backend passes `frontend: false`, a frontend `backend: false`. */
export type RuleWhereSides = RuleWhere & { backend?: boolean };

class Parse implements ActionParse {
  readonly start = 1;
  readonly refs: SampleRef[] = [];
  private readonly sampleDir: 'req' | 'res';
  /** Where the rule's samples are evaluated (acl Place bits). */
  readonly place: number;

  constructor(
    readonly dir: RuleDir,
    readonly action: string,
    readonly words: readonly string[],
    readonly where: RuleWhereSides,
  ) {
    this.sampleDir = dir === 'request' ? 'req' : 'res';
    this.place = httpRulePlace(this.sampleDir, where.frontend ?? true, where.backend ?? true);
  }

  arg(i: number): string {
    return this.words[i] ?? '';
  }

  lf(text: string, http = true): RuleString {
    const w = this.where;
    return compileRuleString(text, { dir: this.sampleDir, http, file: w.file, line: w.line, baseDir: w.baseDir, files: w.files, refs: this.refs });
  }

  expr(i: number): { expr: SampleExpr; next: number } {
    let text = this.arg(i);
    let j = i + 1;
    // HAProxy's sample_parse_expr takes a following word naming a converter as one more converter.
    while (this.arg(j) !== '' && isConverter(this.arg(j))) text += ',' + this.words[j++];
    const w = this.where;
    // HAProxy checks a capture against the frontend's request, whatever the proxy.
    const capture = this.action === 'capture';
    let expr: SampleExpr;
    try {
      const where = capture ? Place.FeHrqHdr : this.place;
      expr = compileSampleExpr(text, { file: w.file, line: w.line, baseDir: w.baseDir, files: w.files, dir: this.sampleDir, where });
    } catch (e) {
      // Named after the expression's last word for a capture, after the action for set-var.
      if (e instanceof SampleScopeError) throw new Error(exprScopeMessage(capture ? this.words[j - 1]! : this.action, e.use));
      throw e;
    }
    for (const r of expr.refs) this.refs.push(r);
    return { expr, next: j };
  }

  cond(i: number): Condition {
    const w = this.where;
    const spec = { polarity: this.words[i] as 'if' | 'unless', tokens: this.words.slice(i + 1), loc: { file: w.file, line: w.line } };
    const acls = w.acls ?? new AclTable({ baseDir: w.baseDir, files: w.files });
    try {
      const c = compileCondition(spec, acls, { dir: this.sampleDir, where: this.place });
      for (const r of c.refs) this.refs.push(r);
      return c;
    } catch (e) {
      if (e instanceof AclError) throw new Error(aclErrorText(e));
      throw e;
    }
  }

  replyEnv(): ReplyEnv {
    const w = this.where;
    return {
      dir: this.sampleDir,
      http: true,
      file: w.file,
      line: w.line,
      baseDir: w.baseDir,
      files: w.files,
      refs: this.refs,
      errorfiles: w.errorfiles,
      httpErrors: w.httpErrors,
      errorfilesRef: w.errorfilesRef?.bind(w),
      bufsize: w.bufsize ?? DEFAULT_BUFSIZE,
      maxrewrite: w.maxrewrite ?? DEFAULT_MAXREWRITE,
      warn: (m) => this.warn(m),
    };
  }

  warn(message: string): void {
    this.where.warn?.(message);
  }
}

class CompiledRule implements HttpRule {
  constructor(
    readonly dir: RuleDir,
    readonly action: string,
    readonly cond: Condition | null,
    readonly file: string,
    readonly line: number,
    readonly final: boolean,
    readonly refs: readonly SampleRef[],
    readonly refWhere: string,
    readonly captureLen: number,
    readonly userlistRefs: readonly UserlistRef[],
    private readonly run: (ctx: RuleContext) => Verdict,
  ) {}

  exec(ctx: RuleContext): Verdict {
    if (this.cond !== null && !this.cond.test(ctx)) return CONTINUE;
    return this.run(ctx);
  }
}

/** Errors that carry HAProxy's text for a refused argument; anything else is a bug and propagates. */
function isConfigError(e: unknown): e is Error {
  return e instanceof Error && (e.constructor === Error || e instanceof AclError || e instanceof LogFormatError || e instanceof ReplyError);
}

/**
 * Compiles the words after `http-request` / `http-response` / `http-after-response` (the action,
 * its arguments, then optionally `if|unless COND...`) into a rule. Conditions are compiled
 * against `where.acls`. The sides of the proxy (`where.frontend`, `where.backend`, both by
 * default) decide which fetches its samples may use (HAProxy's checkpoints); a condition's ACL
 * that cannot match there leaves its warning on `cond.warning`. Throws HttpRuleError (see its
 * `kind` for how to print it); other warnings go to `where.warn`.
 */
export function compileHttpRule(dir: RuleDir, words: readonly string[], where: RuleWhereSides): HttpRule {
  const action = words[0] ?? '';
  const parser = findAction(dir, action);
  if (parser === undefined) throw new HttpRuleError(action, 'unknown', action);
  const p = new Parse(dir, action, words, where);
  const mark = markUserlistRefs();
  let parsed: ParsedAction;
  try {
    // The log-format arguments are compiled by the actions themselves, at the rule's place.
    parsed = atPlace(p.place, () => parser(p));
  } catch (e) {
    takeUserlistRefsSince(mark);
    if (isConfigError(e)) throw new HttpRuleError(quoteFormatRest(e.message, words), 'rule', action);
    throw e;
  }
  let cond: Condition | null = parsed.cond ?? null;
  if (parsed.cond === undefined) {
    const w = p.arg(parsed.next);
    if (isCondWord(w)) {
      try {
        cond = p.cond(parsed.next);
      } catch (e) {
        takeUserlistRefsSince(mark);
        if (isConfigError(e)) throw new HttpRuleError(e.message, 'condition', action);
        throw e;
      }
    } else if (w !== '') {
      takeUserlistRefsSince(mark);
      throw new HttpRuleError(w, 'trailing', action);
    }
  }
  const refWhere = action === 'redirect' ? 'in redirect format string in' : dir === 'request' ? 'in http-request expression in' : 'in http-response response in';
  return new CompiledRule(
    dir,
    action,
    cond,
    where.file,
    where.line,
    parsed.final === true,
    p.refs,
    refWhere,
    parsed.captureLen ?? 0,
    takeUserlistRefsSince(mark),
    parsed.run,
  );
}

/**
 * The text HAProxy prints for a refused rule, after "parsing [file:line]" and its separator
 * (" : " for 'rule' and 'condition', ": " for 'trailing' and 'unknown'). `proxyType` is
 * "frontend", "backend", "listen" or "defaults"; `known` lists the action names for 'unknown'.
 */
export function httpRuleErrorText(e: HttpRuleError, dir: RuleDir, proxyType: string, proxyName: string, known: readonly string[] = []): string {
  const kw = ruleKeyword(dir);
  switch (e.kind) {
    case 'rule':
      return `error detected in ${proxyType} '${proxyName}' while parsing '${kw} ${e.action}' rule : ${e.message}.`;
    case 'condition':
      return `error detected while parsing an '${kw} ${e.action}' condition : ${e.message}.`;
    case 'trailing':
      return `'${kw} ${e.action}' expects either 'if' or 'unless' followed by a condition but found '${e.message}'.`;
    case 'unknown':
      return `'${kw}' expects ${known.map((n) => `'${n}'`).join(', ')}, but got '${e.action}'${e.action === '' ? ' (missing argument)' : ''}.`;
  }
}

/** Index of the rule that returned the last verdict of runHttpRules (a second result without allocation). */
export let lastRuleIndex = 0;

/**
 * Runs `rules` from index `from` until one returns something else than CONTINUE, and returns
 * that verdict (CONTINUE when all went through). lastRuleIndex tells which rule answered: resume
 * there after a WaitForBody verdict. A failed rewrite is counted, and skipped after
 * `strict-mode off`.
 */
export function runHttpRules(rules: readonly HttpRule[], ctx: RuleContext, from = 0): Verdict {
  // Each list starts in strict mode; one resumed after wait-for-body keeps the mode it had.
  if (from === 0) ctx.softRewrites = false;
  for (let i = from; i < rules.length; i++) {
    const v = rules[i]!.exec(ctx);
    if (v !== CONTINUE) {
      if (v.kind === VerdictKind.Error) {
        ctx.rewriteFailed?.();
        if (ctx.softRewrites === true && v !== STRICT_REWRITE_ERROR) continue;
      }
      lastRuleIndex = i;
      return v;
    }
  }
  lastRuleIndex = rules.length;
  return CONTINUE;
}
