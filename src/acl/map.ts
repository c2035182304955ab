// Map converters (HAProxy's map.c): map_<match>[_<output>](file[,default]). The file is read and
// indexed once at configuration time; a lookup is a pattern match whose value replaces the sample.

import { parseIpv4Strict, parseIpv6 } from './addr.js';
import { ArgT, type ArgSpec, type ArgValue } from './args.js';
import { parseSubst, type SubstPart } from './conv-str.js';
import { fromBytes } from './expr.js';
import { type MapValue, newPatternGroup, parsePattern, type Pattern, PatternHead, patExpectType } from './pattern.js';
import { ArgCheckError, type CompileCtx, PatMatch, registerConverter } from './registry.js';
import { readEnd, readInt64, type Sample, SmpT } from './sample.js';

interface MapP {
  head: PatternHead;
  def: MapValue | null;
  /** map_regm: the replacement of each pattern. */
  regm: Map<Pattern, SubstPart[]> | null;
}

/** Parses a map value for the converter's output type; null if it does not parse. */
function parseMapValue(text: string, out: SmpT): MapValue | null {
  if (out === SmpT.Str) return { type: SmpT.Str, num: 0, str: text, ip6: null };
  if (out === SmpT.Sint) {
    const n = readInt64(text, 0, text.length);
    return readEnd < text.length ? null : { type: SmpT.Sint, num: n, str: '', ip6: null };
  }
  const v4 = parseIpv4Strict(text, true);
  if (v4 >= 0) return { type: SmpT.Ipv4, num: v4, str: '', ip6: null };
  const ip6 = new Uint8Array(16);
  return parseIpv6(text, ip6) ? { type: SmpT.Ipv6, num: 0, str: '', ip6 } : null;
}

function loadMap(args: ArgValue[], cc: CompileCtx, match: PatMatch, out: SmpT): MapP {
  const file = fromBytes(args[0] as string);
  let entries;
  try {
    entries = cc.files.load(file, true);
  } catch (e) {
    throw new ArgCheckError((e as Error).message);
  }
  const head = new PatternHead(match, patExpectType(match));
  const group = newPatternGroup(match, false);
  const regm = match === PatMatch.Regm ? new Map<Pattern, SubstPart[]>() : null;
  for (const e of entries) {
    const data = parseMapValue(e.value, out);
    if (!data) throw new ArgCheckError(`unable to parse '${e.value}' at line ${e.line} of file '${file}'`);
    let p: Pattern;
    try {
      p = parsePattern(match, e.key, false, true);
    } catch (err) {
      throw new ArgCheckError(`${(err as Error).message} at line ${e.line} of file '${file}'`);
    }
    p.data = data;
    regm?.set(p, parseSubst(e.value));
    group.add(p);
  }
  group.finish();
  head.groups.push(group);

  let def: MapValue | null = null;
  if (args.length > 1) {
    if (out === SmpT.Sint) def = { type: SmpT.Sint, num: args[1] as number, str: '', ip6: null };
    else {
      def = parseMapValue(args[1] as string, out);
      if (!def) throw new ArgCheckError(`map: cannot parse default ip <${args[1] as string}>.`);
    }
  }
  return { head, def, regm };
}

function setValue(smp: Sample, v: MapValue): void {
  smp.type = v.type;
  smp.num = v.num;
  smp.str = v.str;
  if (v.ip6) smp.ip6.set(v.ip6);
}

function applyRegm(smp: Sample, p: Pattern, parts: SubstPart[]): void {
  const m = p.re!.exec(smp.str);
  let out = '';
  for (const part of parts) out += typeof part === 'string' ? part : (m?.[part] ?? '');
  smp.setStr(out);
}

const MATCHES: Array<[string, PatMatch, SmpT]> = [
  ['str', PatMatch.Str, SmpT.Str],
  ['beg', PatMatch.Beg, SmpT.Str],
  ['sub', PatMatch.Sub, SmpT.Str],
  ['dir', PatMatch.Dir, SmpT.Str],
  ['dom', PatMatch.Dom, SmpT.Str],
  ['end', PatMatch.End, SmpT.Str],
  ['reg', PatMatch.Reg, SmpT.Str],
  ['regm', PatMatch.Regm, SmpT.Str],
  ['int', PatMatch.Int, SmpT.Sint],
  ['ip', PatMatch.Ip, SmpT.Addr],
];
const OUTPUTS: Array<[string, SmpT]> = [
  ['', SmpT.Str],
  ['_int', SmpT.Sint],
  ['_ip', SmpT.Addr],
];

function registerMap(name: string, match: PatMatch, inType: SmpT, out: SmpT): void {
  const args: ArgSpec = { min: 1, types: [ArgT.Str, out === SmpT.Sint ? ArgT.Sint : ArgT.Str] };
  registerConverter<MapP>({
    name,
    args,
    inType,
    outType: out,
    prepare: (a, cc) => loadMap(a, cc, match, out),
    conv: (_ctx, m, smp) => {
      const p = m.head.exec(smp);
      if (p) {
        if (m.regm) applyRegm(smp, p, m.regm.get(p)!);
        else setValue(smp, p.data!);
        return true;
      }
      if (!m.def) return false;
      setValue(smp, m.def);
      return true;
    },
  });
}

registerMap('map', PatMatch.Str, SmpT.Str, SmpT.Str);
for (const [m, match, inType] of MATCHES) {
  for (const [suffix, out] of OUTPUTS) {
    if (m === 'regm' && suffix !== '') continue;
    registerMap(`map_${m}${suffix}`, match, inType, out);
  }
}
