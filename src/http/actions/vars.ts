// Variable actions: set-var(<name>[,<cond>...]) <expr>, set-var-fmt(<name>[,<cond>...]) <fmt>,
// unset-var(<name>) (vars.c parse_store, var_set). Conditions follow var_set: ifexists,
// ifnotexists, ifempty, ifnotempty, ifset, ifnotset, ifgt, iflt. The stream's variables have no
// "created but unset" state, so "exists" and "set" mean the same there.

import { parseVarName, type SampleExpr, type SampleValue, type VarDesc } from '../../acl/index.js';
import type { RuleString } from './lf.js';
import type { ActionParser } from './parse.js';
import { CONTINUE, type RuleContext, type Verdict } from './types.js';

const enum VarCond {
  IfExists = 1,
  IfNotExists = 2,
  IfEmpty = 4,
  IfNotEmpty = 8,
  IfSet = 16,
  IfNotSet = 32,
  IfGt = 64,
  IfLt = 128,
}

const CONDITIONS: ReadonlyMap<string, VarCond> = new Map([
  ['ifexists', VarCond.IfExists],
  ['ifnotexists', VarCond.IfNotExists],
  ['ifempty', VarCond.IfEmpty],
  ['ifnotempty', VarCond.IfNotEmpty],
  ['ifset', VarCond.IfSet],
  ['ifnotset', VarCond.IfNotSet],
  ['ifgt', VarCond.IfGt],
  ['iflt', VarCond.IfLt],
]);

const EXPECTS = "Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'";

/** May `v` replace `prev` under the conditions `c` (var_set's checks)? */
function allowed(c: number, prev: SampleValue | undefined, v: SampleValue): boolean {
  if (prev !== undefined && (c & (VarCond.IfNotExists | VarCond.IfNotSet)) !== 0) return false;
  if (prev === undefined && (c & (VarCond.IfExists | VarCond.IfSet)) !== 0) return false;
  const textual = v.type === 'str' || v.type === 'bin';
  if (c & VarCond.IfEmpty && (!textual || v.value.length > 0)) return false;
  if (c & VarCond.IfNotEmpty && textual && v.value.length === 0) return false;
  if (v.type === 'sint' && prev !== undefined && prev.type === 'sint') {
    if (c & VarCond.IfGt && !(prev.value > v.value)) return false;
    if (c & VarCond.IfLt && !(prev.value < v.value)) return false;
  }
  return true;
}

/** The three variable actions; the action word carries the name and conditions. */
export const parseStore: ActionParser = (p) => {
  const word = p.action;
  let kind: 'set' | 'fmt' | 'unset';
  let rest: string;
  if (word.startsWith('set-var-fmt')) {
    kind = 'fmt';
    rest = word.slice(11);
  } else if (word.startsWith('set-var')) {
    kind = 'set';
    rest = word.slice(7);
  } else {
    kind = 'unset';
    rest = word.slice(9);
  }
  if (rest[0] !== '(') throw new Error(`invalid or incomplete action '${word}'. ${EXPECTS}`);
  if (rest[rest.length - 1] !== ')') throw new Error(`incomplete argument after action '${word}'. ${EXPECTS}`);
  const parts = rest.slice(1, -1).split(',');
  const name = parts[0]!;
  let conds = 0;
  for (let i = 1; i < parts.length; i++) {
    // An empty element ends the list, as istsplit does.
    if (parts[i] === '') break;
    if (kind === 'unset') {
      throw new Error('unset-var does not expect parameters after the variable name. Only "set-var" and "set-var-fmt" manage conditions');
    }
    const c = CONDITIONS.get(parts[i]!);
    if (c === undefined) throw new Error(`unknown condition "${parts[i]}"`);
    conds |= c;
  }
  const v: VarDesc = parseVarName(name);
  if (kind === 'unset') {
    return {
      next: p.start,
      run(ctx: RuleContext): Verdict {
        ctx.unsetVar(v.scope, v.name);
        return CONTINUE;
      },
    };
  }
  let expr: SampleExpr | null = null;
  let fmt: RuleString | null = null;
  let next: number;
  if (kind === 'set') {
    const r = p.expr(p.start);
    expr = r.expr;
    next = r.next;
  } else {
    // set-var-fmt strings are not header values: no HTTP encoding (options 0 in HAProxy).
    fmt = p.lf(p.arg(p.start), false);
    next = p.start + 1;
  }
  return {
    next,
    run(ctx: RuleContext): Verdict {
      let value: SampleValue | null;
      if (expr !== null) value = expr.eval(ctx);
      else value = { type: 'str', value: fmt!.render(ctx) };
      if (value === null) return CONTINUE;
      if (conds !== 0 && !allowed(conds, ctx.getVar(v.scope, v.name), value)) return CONTINUE;
      ctx.setVar(v.scope, v.name, value);
      return CONTINUE;
    },
  };
};
