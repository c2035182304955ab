// Integer and address converters (HAProxy's sample.c): arithmetic and bitwise operators whose
// operand is a number or a variable, boolean tests, and ipmask. Integers are 64-bit in HAProxy;
// here they are doubles clamped to the 64-bit range (exact up to 2^53).

import { isV4Mapped, lastV4 } from './addr.js';
import { ArgT, NO_ARGS, type ArgValue } from './args.js';
import { ArgCheckError, registerConverter } from './registry.js';
import { castSample, clampInt, readEnd, readInt64, Sample, SmpT } from './sample.js';
import type { SampleCtx } from './types.js';
import { loadVar, tryVarName, type VarDesc } from './vars.js';

/** An operand: a constant or a variable read at run time. */
interface Operand {
  n: number;
  v: VarDesc | null;
}

/** HAProxy's check_operator: a variable name if it parses as one, else an integer. */
function prepareOperand(args: ArgValue[]): Operand {
  const s = args[0] as string;
  const v = tryVarName(s);
  if (v) return { n: 0, v };
  const n = readInt64(s, 0, s.length);
  if (readEnd < s.length) throw new ArgCheckError('expects an integer or a variable name');
  return { n, v: null };
}

const tmp = new Sample();

/** Value of the operand, or NaN when its variable is missing or not a number. */
function operand(ctx: SampleCtx, o: Operand): number {
  if (!o.v) return o.n;
  tmp.reset();
  if (!loadVar(ctx, o.v, tmp) || !castSample(tmp, SmpT.Sint)) return NaN;
  return tmp.num;
}

const INT64_MAX = 9223372036854775807;

function bigOp(a: number, b: number, op: 'and' | 'or' | 'xor'): number {
  const x = BigInt(Math.trunc(a));
  const y = BigInt(Math.trunc(b));
  const r = op === 'and' ? x & y : op === 'or' ? x | y : x ^ y;
  return Number(BigInt.asIntN(64, r));
}

const OPS: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => clampInt(a + b),
  sub: (a, b) => clampInt(a - b),
  mul: (a, b) => clampInt(a * b),
  div: (a, b) => (b === 0 ? INT64_MAX : clampInt(Math.trunc(a / b))),
  mod: (a, b) => (b === 0 ? 0 : a % b),
  and: (a, b) => bigOp(a, b, 'and'),
  or: (a, b) => bigOp(a, b, 'or'),
  xor: (a, b) => bigOp(a, b, 'xor'),
};

for (const [name, fn] of Object.entries(OPS)) {
  registerConverter<Operand>({
    name,
    args: { min: 1, types: [ArgT.Str] },
    inType: SmpT.Sint,
    outType: SmpT.Sint,
    prepare: prepareOperand,
    conv: (ctx, o, smp) => {
      const b = operand(ctx, o);
      if (Number.isNaN(b)) return false;
      smp.setInt(fn(smp.num, b));
      return true;
    },
  });
}

function unary(name: string, outType: SmpT, fn: (n: number) => number): void {
  registerConverter<null>({
    name,
    args: NO_ARGS,
    inType: SmpT.Sint,
    outType,
    prepare: () => null,
    conv: (_c, _p, smp) => {
      smp.num = fn(smp.num);
      smp.type = outType;
      return true;
    },
  });
}

unary('neg', SmpT.Sint, (n) => clampInt(-n));
unary('cpl', SmpT.Sint, (n) => Number(BigInt.asIntN(64, ~BigInt(Math.trunc(n)))));
unary('bool', SmpT.Bool, (n) => (n !== 0 ? 1 : 0));
unary('not', SmpT.Bool, (n) => (n === 0 ? 1 : 0));
unary('odd', SmpT.Bool, (n) => (Math.abs(n) % 2 === 1 ? 1 : 0));
unary('even', SmpT.Bool, (n) => (Math.abs(n) % 2 === 0 ? 1 : 0));

interface MaskP {
  m4: number;
  m6: Uint8Array | null;
}

registerConverter<MaskP>({
  name: 'ipmask',
  args: { min: 1, types: [ArgT.Msk4, ArgT.Msk6] },
  inType: SmpT.Addr,
  outType: SmpT.Ipv4,
  prepare: (args) => ({ m4: args[0] as number, m6: (args[1] as Uint8Array | undefined) ?? null }),
  conv: (_c, p, smp) => {
    if (smp.type === SmpT.Ipv6 && isV4Mapped(smp.ip6)) {
      smp.type = SmpT.Ipv4;
      smp.num = lastV4(smp.ip6);
    }
    if (smp.type === SmpT.Ipv4) {
      smp.num = (smp.num & p.m4) >>> 0;
      return true;
    }
    if (smp.type !== SmpT.Ipv6 || !p.m6) return false;
    for (let i = 0; i < 16; i++) smp.ip6[i] = smp.ip6[i]! & p.m6[i]!;
    return true;
  },
});
