// Variable names ("txn.foo") and the var() fetch. The values live in the stream (SampleCtx);
// this module only checks names as HAProxy does and moves values in and out of samples.

import { ArgT } from './args.js';
import { ArgCheckError, registerFetch } from './registry.js';
import { type Sample, SmpT, valueToSample } from './sample.js';
import type { SampleCtx, VarScope } from './types.js';

/** A parsed variable name: its scope and the name inside the scope. */
export interface VarDesc {
  readonly scope: VarScope;
  readonly name: string;
}

const SCOPES: readonly VarScope[] = ['proc', 'sess', 'txn', 'req', 'res', 'check'];

/** Parses "<scope>.<name>" (HAProxy's vars_hash_name); throws an Error with HAProxy's text. */
export function parseVarName(text: string): VarDesc {
  if (text.length === 0) throw new Error('Empty variable name cannot be accepted');
  for (const scope of SCOPES) {
    if (text.length > scope.length + 1 && text.startsWith(scope) && text[scope.length] === '.') {
      const name = text.slice(scope.length + 1);
      for (let i = 0; i < name.length; i++) {
        const c = name.charCodeAt(i);
        const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46;
        if (!ok) throw new Error(`invalid syntax at char '${name.slice(i)}'`);
      }
      return { scope, name };
    }
  }
  throw new Error(
    `invalid variable name '${text}'. A variable name must be start by its scope. ` +
      `The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'`,
  );
}

/** Like parseVarName, but undefined instead of an error (converters accepting int or variable). */
export function tryVarName(text: string): VarDesc | undefined {
  try {
    return parseVarName(text);
  } catch {
    return undefined;
  }
}

/** Loads a variable into `smp`; false when it is not set. */
export function loadVar(ctx: SampleCtx, v: VarDesc, smp: Sample): boolean {
  const val = ctx.getVar(v.scope, v.name);
  return val !== undefined && valueToSample(val, smp);
}

interface VarP {
  v: VarDesc;
  /** Returned as a string when the variable is not set; null = no sample. */
  def: string | null;
}

registerFetch<VarP>({
  name: 'var',
  args: { min: 1, types: [ArgT.Str, ArgT.Str] },
  outType: SmpT.Any,
  prepare: (args) => {
    let v: VarDesc;
    try {
      v = parseVarName(args[0] as string);
    } catch (e) {
      throw new ArgCheckError((e as Error).message);
    }
    return { v, def: args.length > 1 ? (args[1] as string) : null };
  },
  fetch: (ctx, p, smp) => {
    if (loadVar(ctx, p.v, smp)) return true;
    if (p.def === null) return false;
    smp.setStr(p.def);
    return true;
  },
});
