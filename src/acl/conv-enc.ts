// Encoding converters (HAProxy's sample.c and http_conv.c): base64 and base64url, hex, URL
// decoding, JSON string escaping. Inputs and outputs are byte strings.

import { ArgT, NO_ARGS } from './args.js';
import { ArgCheckError, registerConverter } from './registry.js';
import { type Sample, SmpT } from './sample.js';

const simple = (name: string, inType: SmpT, outType: SmpT, fn: (smp: Sample) => boolean): void =>
  registerConverter<null>({ name, args: NO_ARGS, inType, outType, prepare: () => null, conv: (_ctx, _p, smp) => fn(smp) });

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function isB64Char(c: number, url: boolean): boolean {
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57)) return true;
  return url ? c === 45 || c === 95 : c === 43 || c === 47;
}

/** Valid base64 (padded to 4 characters) or base64url (unpadded) text. */
function validB64(s: string, url: boolean): boolean {
  let end = s.length;
  if (!url) {
    if (end % 4 !== 0) return false;
    if (s.charCodeAt(end - 1) === 61) end--;
    if (s.charCodeAt(end - 1) === 61) end--;
  } else if (end % 4 === 1) {
    return false;
  }
  for (let i = 0; i < end; i++) if (!isB64Char(s.charCodeAt(i), url)) return false;
  return true;
}

simple('base64', SmpT.Bin, SmpT.Str, (smp) => {
  smp.setStr(Buffer.from(smp.str, 'latin1').toString('base64'));
  return true;
});
simple('ub64enc', SmpT.Bin, SmpT.Str, (smp) => {
  smp.setStr(Buffer.from(smp.str, 'latin1').toString('base64url'));
  return true;
});
simple('b64dec', SmpT.Str, SmpT.Bin, (smp) => {
  if (!validB64(smp.str, false)) return false;
  smp.type = SmpT.Bin;
  smp.str = Buffer.from(smp.str, 'base64').toString('latin1');
  return true;
});
simple('ub64dec', SmpT.Str, SmpT.Bin, (smp) => {
  if (!validB64(smp.str, true)) return false;
  smp.type = SmpT.Bin;
  smp.str = Buffer.from(smp.str, 'base64url').toString('latin1');
  return true;
});
simple('hex', SmpT.Bin, SmpT.Str, (smp) => {
  smp.setStr(Buffer.from(smp.str, 'latin1').toString('hex').toUpperCase());
  return true;
});
simple('hex2i', SmpT.Str, SmpT.Sint, (smp) => {
  const s = smp.str;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const v = hexVal(s.charCodeAt(i));
    if (v < 0) return false;
    n = n * 16 + v;
  }
  smp.setInt(n);
  return true;
});

registerConverter<boolean>({
  name: 'url_dec',
  args: { min: 0, types: [ArgT.Sint] },
  inType: SmpT.Str,
  outType: SmpT.Str,
  prepare: (args) => ((args[0] as number | undefined) ?? 0) !== 0,
  conv: (_c, inForm, smp) => {
    const s = smp.str;
    if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return true;
    let out = '';
    let form = inForm;
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      if (c === '+') out += form ? ' ' : '+';
      else if (c === '%') {
        const hi = hexVal(s.charCodeAt(i + 1));
        const lo = hexVal(s.charCodeAt(i + 2));
        if (hi < 0 || lo < 0) return false;
        out += String.fromCharCode(hi * 16 + lo);
        i += 2;
      } else {
        if (c === '?') form = true;
        out += c;
      }
    }
    smp.str = out;
    return true;
  },
});

const enum JsonIn {
  Ascii = 0,
  Utf8 = 1,
  Utf8s = 2,
  Utf8p = 3,
  Utf8ps = 4,
}

const JSON_CODES: Record<string, JsonIn> = { '': JsonIn.Ascii, ascii: JsonIn.Ascii, utf8: JsonIn.Utf8, utf8s: JsonIn.Utf8s, utf8p: JsonIn.Utf8p, utf8ps: JsonIn.Utf8ps };
const UTF8_OVERLONG = 0x10;
const UTF8_INVRANGE = 0x20;
const UTF8_BADSEQ = 0x40;

/** HAProxy's utf8_next on a byte string: code flags, code point in `utf8Char`, length in `utf8Len`. */
let utf8Char = 0;
let utf8Len = 0;
function utf8Next(s: string, i: number): number {
  const b = s.charCodeAt(i);
  const left = s.length - i;
  let dec: number;
  utf8Len = 1;
  utf8Char = b;
  if (b < 0x80) return 0;
  if (b < 0xc0 || b >= 0xfe) return UTF8_BADSEQ;
  if (b < 0xe0) dec = 1;
  else if (b < 0xf0) dec = 2;
  else if (b < 0xf8) dec = 3;
  else if (b < 0xfc) dec = 4;
  else dec = 5;
  if (left < dec + 1) return UTF8_BADSEQ;
  let c = b & (0x3f >> dec);
  let p = i + 1;
  for (let k = 0; k < dec; k++, p++) {
    const x = s.charCodeAt(p);
    if ((x & 0xc0) !== 0x80) {
      utf8Len = p - i;
      return UTF8_BADSEQ;
    }
    c = c * 64 + (x & 0x3f);
  }
  utf8Char = c;
  const n = p - i;
  utf8Len = n;
  let code = 0;
  if ((c <= 0x7f && n > 1) || (c >= 0x80 && c <= 0x7ff && n > 2) || (c >= 0x800 && c <= 0xffff && n > 3) || (c >= 0x10000 && c <= 0x1fffff && n > 4)) code |= UTF8_OVERLONG;
  if ((c >= 0xd800 && c <= 0xdfff) || (c >= 0xfffe && c <= 0xffff)) code |= UTF8_INVRANGE;
  return code;
}

function jsonEscape(s: string, mode: JsonIn): string | null {
  let out = '';
  for (let i = 0; i < s.length; ) {
    let c: number;
    if (mode === JsonIn.Ascii) {
      c = s.charCodeAt(i++);
    } else {
      const code = utf8Next(s, i);
      i += utf8Len;
      c = utf8Char;
      if (mode === JsonIn.Utf8 && code !== 0) return null;
      if (mode === JsonIn.Utf8s && code !== 0) continue;
      if (mode === JsonIn.Utf8p && code & (UTF8_INVRANGE | UTF8_BADSEQ)) return null;
      if (mode === JsonIn.Utf8ps && code & (UTF8_INVRANGE | UTF8_BADSEQ)) continue;
      if (c > 0xffff) {
        if (mode === JsonIn.Utf8 || mode === JsonIn.Utf8p) return null;
        continue;
      }
    }
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x2f:
        out += '\\/';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x0c:
        out += '\\f';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x09:
        out += '\\t';
        break;
      default:
        out += c < 0x20 || c > 0x7e ? '\\u' + c.toString(16).padStart(4, '0') : String.fromCharCode(c);
    }
  }
  return out;
}

registerConverter<JsonIn>({
  name: 'json',
  args: { min: 0, types: [ArgT.Str] },
  inType: SmpT.Str,
  outType: SmpT.Str,
  prepare: (args) => {
    const code = JSON_CODES[(args[0] as string | undefined) ?? ''];
    if (code === undefined) {
      throw new ArgCheckError("Unexpected input code type. Allowed value are 'ascii', 'utf8', 'utf8s', 'utf8p' and 'utf8ps'");
    }
    return code;
  },
  conv: (_c, mode, smp) => {
    const r = jsonEscape(smp.str, mode);
    if (r === null) return false;
    smp.setStr(r);
    return true;
  },
});

