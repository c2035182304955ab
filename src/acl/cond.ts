// Conditions (HAProxy's parse_acl_cond / acl_exec_cond): after `if` or `unless`, ACL names with
// an implicit AND, `or` / `||` between alternatives, `!` to negate, and anonymous ACLs between
// braces that are words of their own ("{ path_beg /api }").

import type { ConditionSpec } from '../config/index.js';
import { type AclEntry, type AclExpr, AclResult, type AclTable } from './acl.js';
import { SmpOpt } from './sample.js';
import { findsNothingAt, placeName, placesOf } from './scope.js';
import { AclError, type SampleCtx, type SampleRef } from './types.js';

/** A compiled condition. */
export interface Condition {
  readonly polarity: 'if' | 'unless';
  /** Backends, servers and frontends named by the anonymous ACLs it contains. */
  readonly refs: readonly SampleRef[];
  /**
   * HAProxy's warning for an ACL that cannot match (or a keyword that cannot) at the place the
   * condition was compiled for, without the "parsing [file:line] : " prefix; null when none.
   */
  readonly warning: string | null;
  /** The condition holds (polarity applied); data that may still arrive is taken as final. */
  test(ctx: SampleCtx): boolean;
  /**
   * The raw result before polarity, for rules that may wait for more data (tcp-request content
   * with inspect-delay): Miss means "not decidable yet" unless `final`.
   */
  exec(ctx: SampleCtx, final: boolean): AclResult;
}

interface Term {
  acl: AclEntry;
  neg: boolean;
  /** The expressions evaluated: the ACL's, less those that find nothing at this place. */
  exprs: readonly AclExpr[];
}

class CompiledCondition implements Condition {
  constructor(
    readonly polarity: 'if' | 'unless',
    /** Alternatives (ORed) of terms (ANDed). */
    private readonly suites: readonly (readonly Term[])[],
    private readonly dirOpt: number,
    readonly refs: readonly SampleRef[],
    readonly warning: string | null,
  ) {}

  exec(ctx: SampleCtx, final: boolean): AclResult {
    const opt = this.dirOpt | SmpOpt.Iterate | (final ? SmpOpt.Final : 0);
    let condRes: AclResult = AclResult.Fail;
    const suites = this.suites;
    for (let s = 0; s < suites.length; s++) {
      const terms = suites[s]!;
      let suiteRes: AclResult = AclResult.Pass;
      for (let t = 0; t < terms.length; t++) {
        const term = terms[t]!;
        const exprs = term.exprs;
        let aclRes: AclResult = AclResult.Fail;
        for (let e = 0; e < exprs.length; e++) {
          aclRes |= exprs[e]!.exec(ctx, opt);
          if (aclRes === AclResult.Pass) break;
        }
        // Negation keeps Miss as Miss (HAProxy's acl_neg).
        if (term.neg) aclRes = (3 >> aclRes) as AclResult;
        suiteRes &= aclRes;
        if (suiteRes !== AclResult.Pass) break;
      }
      condRes |= suiteRes;
      if (condRes === AclResult.Pass) break;
    }
    return condRes;
  }

  test(ctx: SampleCtx): boolean {
    const pass = this.exec(ctx, true) === AclResult.Pass;
    return this.polarity === 'unless' ? !pass : pass;
  }
}

/** Options of compileCondition. */
export interface CondOptions {
  /** Direction of the rules it serves (default: the table's). */
  dir?: 'req' | 'res';
  /** Place it is evaluated at (scope.ts Place bits): sets `warning` and drops fetches that find nothing there. */
  where?: number;
  /** The rule keyword ("tcp-request connection") for the wording of TCP rules' warnings. */
  rule?: string;
}

/**
 * Compiles the tokens of a condition against a proxy's ACLs; throws AclError (kind 'plain')
 * carrying HAProxy's message, which a configuration parser reports as
 * "error detected while parsing <rule> condition : <message>.".
 */
export function compileCondition(cond: ConditionSpec, acls: AclTable, opts: CondOptions = {}): Condition {
  const { file, line } = cond.loc;
  const dirOpt = opts.dir === 'res' ? SmpOpt.DirRes : opts.dir === 'req' ? 0 : acls.dirOpt;
  const refsBefore = acls.refs.length;
  const suites: Term[][] = [];
  let suite: Term[] | null = null;
  let neg = false;
  const words = cond.tokens;
  const fail = (msg: string): never => {
    throw new AclError(msg, file, line, 'plain');
  };
  for (let i = 0; i < words.length; i++) {
    let word = words[i]!;
    // The tokens end where the configuration line ends; an empty word ends them too.
    if (word.length === 0) break;
    while (word.startsWith('!')) {
      neg = !neg;
      word = word.slice(1);
    }
    // A lone "!" is allowed: people leave them before nothing.
    if (word.length === 0) continue;
    if (word.toLowerCase() === 'or' || word === '||') {
      suite = null;
      neg = false;
      continue;
    }
    let acl: AclEntry;
    if (word === '{') {
      let end = i + 1;
      while (end < words.length && words[end] !== '' && words[end] !== '}') end++;
      if (end >= words.length || words[end] !== '}') fail("missing closing '}' in condition");
      const inner = words.slice(i + 1, end);
      try {
        acl = { name: '', exprs: [acls.compileExpr('', inner, file, line)], file, line };
      } catch (e) {
        // Reported as part of the condition, without the "while parsing ACL" wrapping.
        if (e instanceof AclError) fail(e.message);
        throw e;
      }
      i = end;
    } else {
      const found = acls.lookup(word, file, line) ?? acls.predefinedAcl(word, file, line);
      if (!found) fail(`no such ACL : '${word}'`);
      acl = found!;
    }
    if (!suite) {
      suite = [];
      suites.push(suite);
    }
    suite.push({ acl, neg, exprs: opts.where === undefined ? acl.exprs : liveExprs(acl.exprs, opts.where) });
    neg = false;
  }
  const warning = opts.where === undefined ? null : conflictWarning(suites, opts.where, opts.rule);
  return new CompiledCondition(cond.polarity, suites, dirOpt, acls.refs.slice(refsBefore), warning);
}

/**
 * The expressions of an ACL that may find something at `where`. A fetch that finds nothing
 * there is left out now rather than tried on every request: an ACL left with none fails.
 */
function liveExprs(exprs: AclExpr[], where: number): readonly AclExpr[] {
  const live = exprs.filter((e) => !findsNothingAt(e.expr.use, where));
  // A named ACL may get more lines later: keep following it unless something was left out.
  return live.length === exprs.length ? exprs : live;
}

/**
 * HAProxy's warning for the first ACL none of whose keywords can be used at `where`, else for
 * the first keyword that cannot (warnif_cond_conflicts; TCP rules name themselves: `rule`).
 */
function conflictWarning(suites: readonly (readonly Term[])[], where: number, rule?: string): string | null {
  const place = placeName(where);
  const inRule = rule === undefined ? '' : ` in '${rule}'`;
  for (const suite of suites) {
    for (const { acl } of suite) {
      let val = 0;
      for (const e of acl.exprs) val |= placesOf(e.expr.use);
      if ((val & where) !== 0) continue;
      if (acl.name !== '') return `acl '${acl.name}' will never match${inRule} because it only involves keywords that are incompatible with '${place}'`;
      return `anonymous acl will never match${inRule} because it uses keyword '${acl.exprs[0]?.kw ?? ''}' which is incompatible with '${place}'`;
    }
  }
  for (const suite of suites) {
    for (const { acl } of suite) {
      const e = acl.exprs.find((x) => (placesOf(x.expr.use) & where) === 0);
      if (e === undefined) continue;
      const kws = rule === undefined ? 'keywords' : 'keyword';
      if (acl.name !== '') return `acl '${acl.name}' involves ${kws} '${e.kw}' which is incompatible with '${place}'`;
      return `anonymous acl involves keyword '${e.kw}' which is incompatible with '${place}'`;
    }
  }
  return null;
}
