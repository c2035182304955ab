// IPv4/IPv6 text parsing and formatting with the exact acceptance rules HAProxy gets from its
// helpers: inet_pton for patterns, buf2ip (a dotted quad at the start of the string) for samples,
// inet_aton-style short forms ("127.1") for patterns that may be resolved, inet_ntop for output.
// IPv4 addresses are unsigned 32-bit numbers; IPv6 addresses are 16 bytes.

/**
 * Parses a dotted-quad IPv4 address; -1 if invalid. `sample` = HAProxy's buf2ip (leading
 * zeros allowed, anything after a complete address is ignored); otherwise inet_pton (exact).
 */
export function parseIpv4Strict(s: string, sample: boolean): number {
  let octets = 0;
  let cur = 0;
  let sawDigit = false;
  let v = 0;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (!sample && sawDigit && cur === 0) return -1;
      cur = cur * 10 + (c - 48);
      if (cur > 255) return -1;
      if (!sawDigit) {
        if (++octets > 4) return -1;
        sawDigit = true;
      }
    } else if (c === 46 && sawDigit) {
      if (octets === 4) return -1;
      v = v * 256 + cur;
      cur = 0;
      sawDigit = false;
    } else if (sample && c !== 46) {
      break;
    } else {
      return -1;
    }
  }
  if (octets < 4 || !sawDigit) return -1;
  return v * 256 + cur;
}

/**
 * The numeric short forms a resolver accepts ("127.1" = 127.0.0.1, "10.12" = 10.0.0.12): one to
 * four decimal parts, the last one filling the remaining bytes. -1 if not of that form.
 */
export function parseIpv4Short(s: string): number {
  const parts = s.split('.');
  if (parts.length > 4) return -1;
  const vals: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]+$/.test(p)) return -1;
    vals.push(Number(p));
  }
  const last = vals.pop()!;
  let v = 0;
  for (const x of vals) {
    if (x > 255) return -1;
    v = v * 256 + x;
  }
  const room = 4 - vals.length;
  if (last >= 2 ** (8 * room)) return -1;
  return v * 2 ** (8 * room) + last;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** inet_pton(AF_INET6) into `out`; false if invalid (then `out` is unspecified). */
export function parseIpv6(s: string, out: Uint8Array): boolean {
  // buf2ip6 refuses anything longer than INET6_ADDRSTRLEN.
  if (s.length > 46 || s.length === 0) return false;
  out.fill(0);
  let tp = 0;
  let colonp = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    i = 1;
  }
  let curtok = i;
  let sawXdigit = false;
  let val = 0;
  let ndig = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const h = hexVal(c);
    if (h >= 0) {
      if (++ndig > 4) return false;
      val = (val << 4) | h;
      sawXdigit = true;
      continue;
    }
    if (c === 58) {
      curtok = i + 1;
      if (!sawXdigit) {
        if (colonp >= 0) return false;
        colonp = tp;
        continue;
      }
      if (i + 1 >= s.length) return false;
      if (tp + 2 > 16) return false;
      out[tp++] = (val >> 8) & 255;
      out[tp++] = val & 255;
      sawXdigit = false;
      val = 0;
      ndig = 0;
      continue;
    }
    if (c === 46 && tp + 4 <= 16) {
      const v4 = parseIpv4Strict(s.slice(curtok), false);
      if (v4 < 0) return false;
      out[tp++] = v4 >>> 24;
      out[tp++] = (v4 >>> 16) & 255;
      out[tp++] = (v4 >>> 8) & 255;
      out[tp++] = v4 & 255;
      sawXdigit = false;
      break;
    }
    return false;
  }
  if (sawXdigit) {
    if (tp + 2 > 16) return false;
    out[tp++] = (val >> 8) & 255;
    out[tp++] = val & 255;
  }
  if (colonp >= 0) {
    if (tp === 16) return false;
    const n = tp - colonp;
    for (let k = 1; k <= n; k++) {
      out[16 - k] = out[colonp + n - k]!;
      out[colonp + n - k] = 0;
    }
    tp = 16;
  }
  return tp === 16;
}

/** Dotted-quad text of an IPv4 address. */
export function formatIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** inet_ntop(AF_INET6) text: longest run of zero groups compressed, embedded IPv4 kept. */
export function formatIpv6(b: Uint8Array): string {
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (b[2 * i] === 0 && b[2 * i + 1] === 0) {
      if (curBase < 0) {
        curBase = i;
        curLen = 1;
      } else {
        curLen++;
      }
    } else if (curBase >= 0) {
      if (bestBase < 0 || curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase >= 0 && (bestBase < 0 || curLen > bestLen)) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestBase >= 0 && bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && b[10] === 0xff && b[11] === 0xff))) {
      out += `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
      return out;
    }
    out += ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

/** The address is ::ffff:a.b.c.d (RFC 4291 IPv4-mapped). */
export function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** The IPv4 address found in the last 4 bytes. */
export function lastV4(b: Uint8Array): number {
  return ((b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!) >>> 0;
}

/** Mask of `bits` leading ones (0..32). */
export function maskFromBits(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** Prefix length of a contiguous mask, or -1 when the mask has holes. */
export function bitsFromMask(mask: number): number {
  // The zeros after the ones must form 2^k - 1 once inverted; the prefix length is then the
  // number of leading zeros of that inverse.
  const inv = ~mask >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1;
  return Math.clz32(inv);
}

/** HAProxy's str2mask: dotted mask or bit count 0..32; -1 if invalid. */
export function parseMask4(s: string): number {
  if (s.includes('.')) return parseIpv4Strict(s, false);
  if (!/^[0-9]+$/.test(s)) return -1;
  const n = Number(s);
  return n > 32 ? -1 : maskFromBits(n);
}

/** HAProxy's str2mask6: IPv6 mask notation or bit count 0..128, into `out`. */
export function parseMask6(s: string, out: Uint8Array): boolean {
  if (s.includes(':')) return parseIpv6(s, out);
  if (!/^[0-9]+$/.test(s)) return false;
  const n = Number(s);
  if (n > 128) return false;
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, n - 8 * i));
    out[i] = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
  return true;
}

/**
 * HAProxy's str2net: "addr[/mask]" where mask is dotted or a bit count. The short numeric forms
 * are accepted unless `noResolve` (the -n flag); host names are not resolved by sluice.
 */
export function parseNet4(s: string, noResolve: boolean): { addr: number; mask: number } | null {
  const slash = s.lastIndexOf('/');
  let mask = 0xffffffff;
  let a = s;
  if (slash >= 0) {
    mask = parseMask4(s.slice(slash + 1));
    if (mask < 0) return null;
    a = s.slice(0, slash);
  }
  let addr = parseIpv4Strict(a, false);
  if (addr < 0 && !noResolve) addr = parseIpv4Short(a);
  if (addr < 0) return null;
  return { addr, mask };
}

/** HAProxy's str62net: "addr[/bits]" for IPv6. */
export function parseNet6(s: string): { addr: Uint8Array; prefix: number } | null {
  const slash = s.lastIndexOf('/');
  let prefix = 128;
  let a = s;
  if (slash >= 0) {
    const m = s.slice(slash + 1);
    if (!/^[0-9]+$/.test(m)) return null;
    prefix = Number(m);
    if (prefix > 128) return null;
    a = s.slice(0, slash);
  }
  const addr = new Uint8Array(16);
  if (!parseIpv6(a, addr)) return null;
  return { addr, prefix };
}

/** The first `prefix` bits of `a` and `b` are equal. */
export function prefixEquals(a: Uint8Array, b: Uint8Array, prefix: number): boolean {
  let i = 0;
  for (; prefix >= 8; prefix -= 8, i++) if (a[i] !== b[i]) return false;
  if (prefix === 0) return true;
  const m = (0xff << (8 - prefix)) & 0xff;
  return ((a[i]! ^ b[i]!) & m) === 0;
}
