// String and binary converters (HAProxy's sample.c and http_conv.c): case, fields and words,
// regex substitution, encodings, JSON escaping. Inputs are byte strings; case changes are ASCII
// only, as in C.

import { ArgT, NO_ARGS, type ArgSpec, type ArgValue } from './args.js';
import { compileRegex } from './pattern.js';
import { ArgCheckError, type ConvDef, registerConverter } from './registry.js';
import { castSample, Sample, SmpT } from './sample.js';
import type { SampleCtx } from './types.js';
import { loadVar, parseVarName, type VarDesc } from './vars.js';

function conv<P>(def: ConvDef<P>): void {
  registerConverter(def);
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

function asciiCase(s: string, upper: boolean): string {
  if (isAscii(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  let out = '';
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (upper && c >= 97 && c <= 122) c -= 32;
    else if (!upper && c >= 65 && c <= 90) c += 32;
    out += String.fromCharCode(c);
  }
  return out;
}

const simple = (name: string, inType: SmpT, outType: SmpT, fn: (smp: Sample) => boolean): void =>
  conv<null>({ name, args: NO_ARGS, inType, outType, prepare: () => null, conv: (_ctx, _p, smp) => fn(smp) });

simple('lower', SmpT.Str, SmpT.Str, (smp) => {
  smp.str = asciiCase(smp.str, false);
  return true;
});
simple('upper', SmpT.Str, SmpT.Str, (smp) => {
  smp.str = asciiCase(smp.str, true);
  return true;
});
simple('length', SmpT.Str, SmpT.Sint, (smp) => {
  smp.setInt(smp.str.length);
  return true;
});
simple('cut_crlf', SmpT.Str, SmpT.Str, (smp) => {
  let i = 0;
  while (i < smp.str.length && smp.str[i] !== '\r' && smp.str[i] !== '\n') i++;
  smp.str = smp.str.slice(0, i);
  return true;
});

interface FieldP {
  idx: number;
  seps: string;
  count: number;
}

const FIELD_ARGS: ArgSpec = { min: 2, types: [ArgT.Sint, ArgT.Str, ArgT.Sint] };

function prepareField(args: ArgValue[]): FieldP {
  if (args[0] === 0) throw new ArgCheckError('Unexpected value 0 for index');
  if ((args[1] as string).length === 0) throw new ArgCheckError('Empty separators list');
  return { idx: args[0] as number, seps: args[1] as string, count: (args[2] as number | undefined) ?? 1 };
}

/** HAProxy's field(): fields between separators, empty ones included; no such field = no sample. */
function field(smp: Sample, p: FieldP): boolean {
  const s = smp.str;
  const seps = p.seps;
  let count = p.count;
  let start: number;
  let end: number;
  let f: number;
  if (p.idx < 0) {
    f = -1;
    start = end = s.length;
    for (; start > 0; start--) {
      if (!seps.includes(s[start - 1]!)) continue;
      if (f === p.idx) {
        if (count === 1) break;
        if (count > 1) count--;
      } else {
        end = start - 1;
        f--;
      }
    }
  } else {
    f = 1;
    start = end = 0;
    for (; end < s.length; end++) {
      if (!seps.includes(s[end]!)) continue;
      if (f === p.idx) {
        if (count === 1) break;
        if (count > 1) count--;
      } else {
        start = end + 1;
        f++;
      }
    }
  }
  if (f !== p.idx) return false;
  smp.str = s.slice(start, end);
  return true;
}

/** HAProxy's word(): like field() but runs of separators count as one; none = empty string. */
function word(smp: Sample, p: FieldP): boolean {
  const s = smp.str;
  const seps = p.seps;
  let count = p.count;
  let w = 0;
  let inWord = false;
  let start: number;
  let end: number;
  let found = false;
  if (p.idx < 0) {
    start = end = s.length;
    for (; start > 0; start--) {
      const isSep = seps.includes(s[start - 1]!);
      if (!inWord) {
        if (!isSep) {
          if (w !== p.idx) {
            w--;
            end = start;
          }
          inWord = true;
        }
      } else if (isSep) {
        if (w === p.idx) {
          if (count === 1) {
            found = true;
            break;
          }
          if (count > 1) count--;
        }
        inWord = false;
      }
    }
  } else {
    start = end = 0;
    for (; end < s.length; end++) {
      const isSep = seps.includes(s[end]!);
      if (!inWord) {
        if (!isSep) {
          if (w !== p.idx) {
            w++;
            start = end;
          }
          inWord = true;
        }
      } else if (isSep) {
        if (w === p.idx) {
          if (count === 1) {
            found = true;
            break;
          }
          if (count > 1) count--;
        }
        inWord = false;
      }
    }
  }
  if (!found && w !== p.idx) {
    smp.str = '';
    return true;
  }
  smp.str = s.slice(start, end);
  return true;
}

conv<FieldP>({ name: 'field', args: FIELD_ARGS, inType: SmpT.Str, outType: SmpT.Str, prepare: prepareField, conv: (_c, p, smp) => field(smp, p) });
conv<FieldP>({ name: 'word', args: FIELD_ARGS, inType: SmpT.Str, outType: SmpT.Str, prepare: prepareField, conv: (_c, p, smp) => word(smp, p) });

/** A replacement string cut into literal parts and back-references (\0..\9). */
export type SubstPart = string | number;

/** Compiles a replacement string (HAProxy's exp_replace syntax: \N, \xHH, \c). */
export function parseSubst(s: string): SubstPart[] {
  const parts: SubstPart[] = [];
  let lit = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      lit += c;
      continue;
    }
    const n = s[++i]!;
    if (n >= '0' && n <= '9') {
      if (lit) parts.push(lit);
      lit = '';
      parts.push(n.charCodeAt(0) - 48);
    } else if (n === 'x' && i + 2 < s.length) {
      // HAProxy decodes the two characters without checking them.
      const h = (x: string): number => {
        const v = x.toUpperCase().charCodeAt(0) - 48;
        return v > 9 ? v - 7 : v;
      };
      lit += String.fromCharCode(((h(s[i + 1]!) << 4) + h(s[i + 2]!)) & 255);
      i += 2;
    } else {
      lit += n;
    }
  }
  if (lit) parts.push(lit);
  return parts;
}

interface RegsubP {
  re: RegExp;
  global: boolean;
  subst: SubstPart[];
}

conv<RegsubP>({
  name: 'regsub',
  args: { min: 2, types: [ArgT.Reg, ArgT.Str, ArgT.Str] },
  inType: SmpT.Str,
  outType: SmpT.Str,
  prepare: (args) => {
    let icase = false;
    let global = false;
    for (const f of (args[2] as string | undefined) ?? '') {
      if (f === 'i') icase = true;
      else if (f === 'g') global = true;
      else throw new ArgCheckError(`invalid regex flag '${f}', only 'i' and 'g' are supported`);
    }
    let re: RegExp;
    try {
      re = compileRegex(args[0] as string, icase, true);
    } catch (e) {
      throw new ArgCheckError((e as Error).message);
    }
    return { re, global, subst: parseSubst(args[1] as string) };
  },
  conv: (_c, p, smp) => {
    const s = smp.str;
    const re = p.re;
    let out = '';
    let start = 0;
    let first = true;
    for (;;) {
      let m: RegExpExecArray | null = null;
      if (p.global || first) {
        re.lastIndex = start;
        m = re.exec(s);
      }
      if (!m) {
        out += s.slice(start);
        break;
      }
      out += s.slice(start, m.index);
      for (const part of p.subst) out += typeof part === 'string' ? part : (m[part] ?? '');
      if (start >= s.length) break;
      let next = m.index + m[0].length;
      if (next === start) {
        // An empty match in front of a character: keep the character and move on.
        out += s[start];
        next++;
      }
      start = next;
      first = false;
    }
    smp.str = out;
    return true;
  },
});

conv<{ off: number; len: number }>({
  name: 'bytes',
  args: { min: 1, types: [ArgT.Sint, ArgT.Sint] },
  inType: SmpT.Bin,
  outType: SmpT.Bin,
  prepare: (args) => ({ off: args[0] as number, len: (args[1] as number | undefined) ?? -1 }),
  conv: (_c, p, smp) => {
    const s = smp.str;
    if (s.length <= p.off) smp.str = '';
    else smp.str = p.len >= 0 && p.len < s.length - p.off ? s.slice(p.off, p.off + p.len) : s.slice(p.off);
    return true;
  },
});

for (const [name, left] of [
  ['ltrim', true],
  ['rtrim', false],
] as const) {
  conv<string>({
    name,
    args: { min: 1, types: [ArgT.Str] },
    inType: SmpT.Str,
    outType: SmpT.Str,
    prepare: (args) => args[0] as string,
    conv: (_c, chars, smp) => {
      const s = smp.str;
      if (left) {
        let i = 0;
        while (i < s.length && chars.includes(s[i]!)) i++;
        smp.str = s.slice(i);
      } else {
        let i = s.length;
        while (i > 0 && chars.includes(s[i - 1]!)) i--;
        smp.str = s.slice(0, i);
      }
      return true;
    },
  });
}

const tmpSmp = new Sample();

/** Value of a variable as a string, or null (concat, strcmp). */
function varString(ctx: SampleCtx, v: VarDesc): string | null {
  tmpSmp.reset();
  if (!loadVar(ctx, v, tmpSmp) || !castSample(tmpSmp, SmpT.Str)) return null;
  return tmpSmp.str;
}

function checkedVar(name: string, msg: (n: string) => string): VarDesc {
  try {
    return parseVarName(name);
  } catch {
    throw new ArgCheckError(msg(name));
  }
}

conv<{ pre: string; v: VarDesc | null; post: string }>({
  name: 'concat',
  args: { min: 1, types: [ArgT.Str, ArgT.Str, ArgT.Str] },
  inType: SmpT.Str,
  outType: SmpT.Str,
  prepare: (args) => {
    const name = (args[1] as string | undefined) ?? '';
    const v = name.length > 0 ? checkedVar(name, (n) => `failed to register variable name '${n}'`) : null;
    return { pre: args[0] as string, v, post: (args[2] as string | undefined) ?? '' };
  },
  conv: (ctx, p, smp) => {
    const mid = p.v ? varString(ctx, p.v) : null;
    smp.setStr(smp.str + p.pre + (mid ?? '') + p.post);
    return true;
  },
});

conv<VarDesc>({
  name: 'strcmp',
  args: { min: 1, types: [ArgT.Str] },
  inType: SmpT.Str,
  outType: SmpT.Sint,
  prepare: (args) => checkedVar(args[0] as string, (n) => `failed to register variable name '${n}'`),
  conv: (ctx, v, smp) => {
    const other = varString(ctx, v);
    if (other === null) return false;
    const a = smp.str;
    const max = Math.min(a.length, other.length);
    let r = 0;
    for (let i = 0; i < max && r === 0; i++) r = a.charCodeAt(i) - other.charCodeAt(i);
    if (r === 0 && a.length !== other.length) r = a.length < other.length ? -1 : 1;
    smp.setInt(r);
    return true;
  },
});

conv<[string, string]>({
  name: 'iif',
  args: { min: 2, types: [ArgT.Str, ArgT.Str] },
  inType: SmpT.Bool,
  outType: SmpT.Str,
  prepare: (args) => [args[0] as string, args[1] as string],
  conv: (_c, p, smp) => {
    smp.setStr(smp.num !== 0 ? p[0] : p[1]);
    return true;
  },
});
