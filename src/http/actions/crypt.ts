// crypt(3) for the `password` of userlist users, the schemes HAProxy configurations use:
// "$1$" (MD5-crypt, Poul-Henning Kamp's algorithm), "$5$" and "$6$" (SHA-crypt, Ulrich
// Drepper's specification, SHA-256 and SHA-512), on node:crypto digests. Settings that
// libxcrypt refuses (bad salt characters, rounds out of 1000..999999999, leading zeros) give null,
// which never matches a stored hash, as crypt's "*0" failure token never does in HAProxy.

import { createHash } from 'node:crypto';

const B64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Appends `n` characters encoding the 24-bit value b2:b1:b0, low bits first. */
function b64From24(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < n; i++) {
    out += B64[w & 0x3f];
    w >>>= 6;
  }
  return out;
}

/** libxcrypt refuses these salt characters (and anything outside printable ASCII). */
function validSaltChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x3a && c !== 0x3b && c !== 0x2a && c !== 0x21 && c !== 0x5c;
}

/** The salt of a setting: characters up to '$' or the end, at most `max`; null when invalid. */
function saltOf(s: string, from: number, max: number): string | null {
  let end = from;
  while (end < s.length && s[end] !== '$' && end - from < max) end++;
  const salt = s.slice(from, end);
  for (let i = 0; i < salt.length; i++) if (!validSaltChar(salt.charCodeAt(i))) return null;
  return salt;
}

function digest(alg: string, parts: Buffer[]): Buffer {
  const h = createHash(alg);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** `len` bytes of `block` repeated. */
function repeatTo(block: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i += block.length) block.copy(out, i, 0, Math.min(block.length, len - i));
  return out;
}

/** MD5-crypt: "$1$<salt, up to 8>$<22 characters>". */
function md5Crypt(pw: Buffer, setting: string): string | null {
  const salt = saltOf(setting, 3, 8);
  if (salt === null) return null;
  const sb = Buffer.from(salt, 'latin1');
  const alt = digest('md5', [pw, sb, pw]);
  const parts: Buffer[] = [pw, Buffer.from('$1$'), sb];
  for (let pl = pw.length; pl > 0; pl -= 16) parts.push(alt.subarray(0, Math.min(pl, 16)));
  const zero = Buffer.from([0]);
  const first = pw.subarray(0, 1);
  for (let i = pw.length; i > 0; i >>>= 1) parts.push(i & 1 ? zero : first);
  let f = digest('md5', parts);
  for (let i = 0; i < 1000; i++) {
    const h = createHash('md5');
    h.update(i & 1 ? pw : f);
    if (i % 3) h.update(sb);
    if (i % 7) h.update(pw);
    h.update(i & 1 ? f : pw);
    f = h.digest();
  }
  const enc =
    b64From24(f[0]!, f[6]!, f[12]!, 4) +
    b64From24(f[1]!, f[7]!, f[13]!, 4) +
    b64From24(f[2]!, f[8]!, f[14]!, 4) +
    b64From24(f[3]!, f[9]!, f[15]!, 4) +
    b64From24(f[4]!, f[10]!, f[5]!, 4) +
    b64From24(0, 0, f[11]!, 2);
  return '$1$' + salt + '$' + enc;
}

const ROUNDS_DEFAULT = 5000;
const ROUNDS_MIN = 1000;
const ROUNDS_MAX = 999_999_999;

/** SHA-crypt: "$5$" or "$6$", optional "rounds=N$", salt up to 16 characters, then the hash. */
function shaCrypt(pw: Buffer, setting: string, sha512: boolean): string | null {
  const alg = sha512 ? 'sha512' : 'sha256';
  const n = sha512 ? 64 : 32;
  let pos = 3;
  let rounds = ROUNDS_DEFAULT;
  let custom = false;
  if (setting.startsWith('rounds=', pos)) {
    const end = setting.indexOf('$', pos + 7);
    const digits = setting.slice(pos + 7, end < 0 ? setting.length : end);
    if (end < 0 || !/^[1-9]\d*$/.test(digits)) return null;
    rounds = Number(digits);
    if (rounds < ROUNDS_MIN || rounds > ROUNDS_MAX) return null;
    custom = true;
    pos = end + 1;
  }
  const salt = saltOf(setting, pos, 16);
  if (salt === null) return null;
  const sb = Buffer.from(salt, 'latin1');

  const b = digest(alg, [pw, sb, pw]);
  const aParts: Buffer[] = [pw, sb];
  let cnt = pw.length;
  for (; cnt > n; cnt -= n) aParts.push(b);
  aParts.push(b.subarray(0, cnt));
  for (cnt = pw.length; cnt > 0; cnt >>>= 1) aParts.push(cnt & 1 ? b : pw);
  const a = digest(alg, aParts);

  const dpParts: Buffer[] = [];
  for (let i = 0; i < pw.length; i++) dpParts.push(pw);
  const p = repeatTo(digest(alg, dpParts), pw.length);
  const dsParts: Buffer[] = [];
  for (let i = 0; i < 16 + a[0]!; i++) dsParts.push(sb);
  const s = repeatTo(digest(alg, dsParts), sb.length);

  let c = a;
  for (let i = 0; i < rounds; i++) {
    const h = createHash(alg);
    h.update(i & 1 ? p : c);
    if (i % 3) h.update(s);
    if (i % 7) h.update(p);
    h.update(i & 1 ? c : p);
    c = h.digest();
  }

  let enc = '';
  if (sha512) {
    // Triples (i, i+21, i+42), rotated by one position at each step.
    for (let i = 0; i < 21; i++) {
      const t = [c[i]!, c[i + 21]!, c[i + 42]!];
      const r = i % 3;
      enc += b64From24(t[r]!, t[(r + 1) % 3]!, t[(r + 2) % 3]!, 4);
    }
    enc += b64From24(0, 0, c[63]!, 2);
  } else {
    // Triples (i, i+10, i+20), rotated the other way.
    for (let i = 0; i < 10; i++) {
      const t = [c[i]!, c[i + 10]!, c[i + 20]!];
      const r = (3 - (i % 3)) % 3;
      enc += b64From24(t[r]!, t[(r + 1) % 3]!, t[(r + 2) % 3]!, 4);
    }
    enc += b64From24(0, c[31]!, c[30]!, 3);
  }
  return (sha512 ? '$6$' : '$5$') + (custom ? `rounds=${rounds}$` : '') + salt + '$' + enc;
}

/**
 * crypt(password, setting) for the "$1$", "$5$" and "$6$" schemes; null for any other setting
 * or an invalid one. The password is taken as bytes (latin1 for strings).
 */
export function crypt(password: string | Buffer, setting: string): string | null {
  const pw = typeof password === 'string' ? Buffer.from(password, 'latin1') : password;
  if (setting.startsWith('$1$')) return md5Crypt(pw, setting);
  if (setting.startsWith('$5$')) return shaCrypt(pw, setting, false);
  if (setting.startsWith('$6$')) return shaCrypt(pw, setting, true);
  return null;
}

/** crypt(3) schemes of libxcrypt that sluice does not compute; a stored hash using one is refused. */
const UNSUPPORTED_SCHEMES: ReadonlyArray<readonly [string, string]> = [
  ['$y$', 'yescrypt'],
  ['$gy$', 'gost-yescrypt'],
  ['$7$', 'scrypt'],
  ['$2a$', 'bcrypt'],
  ['$2b$', 'bcrypt'],
  ['$2x$', 'bcrypt'],
  ['$2y$', 'bcrypt'],
  ['$sha1$', 'sha1crypt'],
  ['$md5', 'SunMD5'],
  ['$3$', 'NT-hash'],
  ['_', 'BSDi extended DES'],
];

/**
 * The name of a known crypt(3) scheme sluice cannot verify ("yescrypt", "traditional DES"...),
 * or undefined. Other unknown strings are accepted as HAProxy does and simply never match.
 */
export function unsupportedScheme(hash: string): string | undefined {
  for (const [prefix, name] of UNSUPPORTED_SCHEMES) if (hash.startsWith(prefix)) return name;
  if (/^[./0-9A-Za-z]{13}$/.test(hash)) return 'traditional DES';
  return undefined;
}
