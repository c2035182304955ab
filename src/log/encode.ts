// Character encodings applied to log fields, as HAProxy does them (configuration.txt 8.6):
// - request lines (%r %HU ...) escape non-printable bytes, '"' and '#' as "#XX";
// - captured headers (%hr %hs ...) also escape '{', '|' and '}';
// - the "E" flag escapes '"', '\' and ']' with a backslash (RFC 5424 structured data).
// Every encoder first scans for a character that needs work and returns its input unchanged
// when there is none, so the common all-printable case allocates nothing.

const HEX = '0123456789ABCDEF';

/** Which characters a map escapes as "#XX". */
export const enum EncodeMap {
  /** Request line and its parts: CTLs, >= 0x7F, '"' and '#'. */
  Url = 0,
  /** Captured header values: as Url plus '{', '|' and '}'. */
  Header = 1,
  /** Values placed in HTTP header fields (unique-id-format): CTLs but HTAB, and DEL, as "%XX". */
  Http = 2,
}

const URL_MAP = new Uint8Array(256);
const HDR_MAP = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  const ctl = i < 32 || i >= 127 ? 1 : 0;
  URL_MAP[i] = ctl;
  HDR_MAP[i] = ctl;
}
URL_MAP[0x22] = URL_MAP[0x23] = 1; // " #
const HTTP_MAP = new Uint8Array(256);
for (let i = 0; i < 32; i++) HTTP_MAP[i] = i === 9 ? 0 : 1;
HTTP_MAP[0x7f] = 1;
HDR_MAP[0x22] = HDR_MAP[0x23] = HDR_MAP[0x7b] = HDR_MAP[0x7c] = HDR_MAP[0x7d] = 1; // " # { | }

function isRfc5424Special(c: number): boolean {
  return c === 0x22 || c === 0x5c || c === 0x5d; // " \ ]
}

function hexByte(b: number): string {
  return HEX[b >> 4]! + HEX[b & 15]!;
}

/** Appends "#XX" for each UTF-8 byte of a character above 0xFF (latin1 text never has one). */
function encodeWide(code: number, escape: string): string {
  const bytes = Buffer.from(String.fromCharCode(code), 'utf8');
  let out = '';
  for (const b of bytes) out += escape + hexByte(b);
  return out;
}

/**
 * Escapes `s` with the given map: mapped characters become "#XX" ("%XX" for the Http map);
 * with `esc` (the "E" flag) the characters '"', '\' and ']' that the map leaves alone get a
 * backslash prefix.
 */
export function encodeWithMap(s: string, map: EncodeMap, esc: boolean): string {
  const table = map === EncodeMap.Header ? HDR_MAP : map === EncodeMap.Http ? HTTP_MAP : URL_MAP;
  const escape = map === EncodeMap.Http ? '%' : '#';
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if ((c > 0xff && map !== EncodeMap.Http) || table[c] === 1 || (esc && isRfc5424Special(c))) break;
  }
  if (i === n) return s;
  let out = s.slice(0, i);
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) out += map === EncodeMap.Http ? s[i] : encodeWide(c, escape);
    else if (table[c] === 1) out += escape + hexByte(c);
    else if (esc && isRfc5424Special(c)) out += '\\' + s[i];
    else out += s[i];
  }
  return out;
}

/** The "E" flag on plain text: a backslash before '"', '\' and ']'. */
export function escapeRfc5424(s: string): string {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) if (isRfc5424Special(s.charCodeAt(i))) break;
  if (i === n) return s;
  let out = s.slice(0, i);
  for (; i < n; i++) {
    if (isRfc5424Special(s.charCodeAt(i))) out += '\\';
    out += s[i];
  }
  return out;
}

/**
 * HAProxy's encoding of free text inside event messages (check "info" strings): characters
 * outside printable ASCII, '<', '>' and the quote character `qc` become "<XX>".
 */
export function asciiEncode(s: string, qc: string): string {
  const q = qc.charCodeAt(0);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x3c || c === 0x3e || c === q) {
      if (c > 0xff) {
        for (const b of Buffer.from(String.fromCharCode(c), 'utf8')) out += '<' + hexByte(b) + '>';
      } else {
        out += '<' + hexByte(c) + '>';
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

/** Upper-case hexadecimal, left-padded with zeros to `width` digits (printf "%0*X"). */
export function hexPad(n: number, width: number): string {
  const h = (n >>> 0).toString(16).toUpperCase();
  return h.length >= width ? h : '0'.repeat(width - h.length) + h;
}

/**
 * An IP address in hexadecimal, most significant byte first ("+X" on %ci %fi %bi %si):
 * 8 digits for IPv4, 32 for IPv6. Returns undefined for anything that is not an IP literal.
 */
export function ipToHex(ip: string): string | undefined {
  if (ip.indexOf(':') < 0) {
    const parts = ip.split('.');
    if (parts.length !== 4) return undefined;
    let out = '';
    for (const p of parts) {
      const v = Number(p);
      if (p === '' || !Number.isInteger(v) || v < 0 || v > 255) return undefined;
      out += hexByte(v);
    }
    return out;
  }
  const words = ipv6Words(ip);
  if (!words) return undefined;
  let out = '';
  for (const w of words) out += hexByte(w >> 8) + hexByte(w & 0xff);
  return out;
}

/** The eight 16-bit words of an IPv6 literal (with "::" and a dotted IPv4 tail), or undefined. */
function ipv6Words(ip: string): number[] | undefined {
  const pct = ip.indexOf('%');
  if (pct >= 0) ip = ip.slice(0, pct);
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const groups = s.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (i === groups.length - 1 && g.indexOf('.') >= 0) {
        const hex = ipToHex(g);
        if (!hex) return undefined;
        out.push(parseInt(hex.slice(0, 4), 16), parseInt(hex.slice(4), 16));
        continue;
      }
      if (g.length === 0 || g.length > 4) return undefined;
      let v = 0;
      for (let k = 0; k < g.length; k++) {
        const d = HEX.indexOf(g[k]!.toUpperCase());
        if (d < 0) return undefined;
        v = v * 16 + d;
      }
      out.push(v);
    }
    return out;
  };
  const head = parse(halves[0]!);
  if (!head) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const tail = parse(halves[1]!);
  if (!tail || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}
