// Addresses as written on bind, server, log and nameserver lines (tools.c str2sa_range): an
// optional family prefix (ipv4@, ipv6@, tcp@, udp4@, unix@, fd@ ...), then an IPv4 address, an
// IPv6 address (bare or in brackets), '*' or nothing for "any", or a host name, then ':port',
// ':low-high', ':+offset' or ':-offset'. The LAST colon separates the port, so "::1:80" is
// [::1]:80 while a bare "::1" is refused. Host names are resolved later, at start-up.

import { isIP } from 'node:net';
import { envExpandLegacy, type Env } from './lexer.js';

export type AddrFamilyPrefix = 'ip' | 'ipv4' | 'ipv6' | 'tcp' | 'tcp4' | 'tcp6' | 'udp' | 'udp4' | 'udp6';

/** A parsed inet address whose host may still need a DNS lookup. */
export interface InetAddress {
  kind: 'inet';
  /** Literal address; '' while `fqdn` awaits resolution. */
  host: string;
  /** 4 or 6 for literals; 0 when unknown (a name without an ipv4@/ipv6@ prefix). */
  family: 0 | 4 | 6;
  /** Host name to resolve (as written). */
  fqdn?: string;
  port: number;
  /** Last port of a range (equals `port` otherwise). */
  portEnd: number;
  /** Port written as +N / -N, or absent: relative to the client's destination port. */
  portMode: 'absolute' | 'none' | 'offset';
  /** The protocol prefix, if any. */
  prefix?: AddrFamilyPrefix;
  /** Transport implied by the prefix. */
  transport?: 'stream' | 'dgram';
}

/** A non-inet address; sluice recognises them so it can say they are not supported yet. */
export interface OtherAddress {
  kind: 'unix' | 'abns' | 'fd' | 'sockpair' | 'quic';
  path: string;
  transport?: 'stream' | 'dgram';
}

export type ParsedAddress = InetAddress | OtherAddress;

export interface AddressOptions {
  /** A port may be given (else "port specification not permitted here"). */
  portOk: boolean;
  /** A port is required (bind, nameserver). */
  portMandatory: boolean;
  /** "low-high" ranges are accepted. */
  portRange: boolean;
  /** "+N"/"-N" offsets are accepted (servers). */
  portOffset: boolean;
}

export type AddressResult = { ok: true; addr: ParsedAddress } | { ok: false; error: string };

const PREFIXES: Array<[string, AddrFamilyPrefix, 0 | 4 | 6, ('stream' | 'dgram')?]> = [
  ['ipv4@', 'ipv4', 4],
  ['ipv6@', 'ipv6', 6],
  ['ip@', 'ip', 0],
  ['tcp4@', 'tcp4', 4, 'stream'],
  ['tcp6@', 'tcp6', 6, 'stream'],
  ['tcp@', 'tcp', 0, 'stream'],
  ['udp4@', 'udp4', 4, 'dgram'],
  ['udp6@', 'udp6', 6, 'dgram'],
  ['udp@', 'udp', 0, 'dgram'],
];

/** Parses one address (not a comma-separated list). Error texts are HAProxy's. */
export function parseAddress(raw: string, opts: AddressOptions, env: Env): AddressResult {
  const str = envExpandLegacy(raw, env);
  if (str === '') return { ok: false, error: `'${raw}' resolves to an empty address (environment variable missing?)` };
  let s = str;
  let transport: 'stream' | 'dgram' | undefined;
  if (s.startsWith('stream+')) {
    s = s.slice(7);
    transport = 'stream';
  } else if (s.startsWith('dgram+')) {
    s = s.slice(6);
    transport = 'dgram';
  }
  for (const [pfx, kind, , t] of [
    ['unix@', 'unix'],
    ['uxst@', 'unix', 0, 'stream'],
    ['uxdg@', 'unix', 0, 'dgram'],
    ['abns@', 'abns'],
    ['fd@', 'fd'],
    ['sockpair@', 'sockpair'],
    ['quic4@', 'quic'],
    ['quic6@', 'quic'],
  ] as Array<[string, OtherAddress['kind'], number?, ('stream' | 'dgram')?]>) {
    if (s.startsWith(pfx)) {
      const addr: OtherAddress = { kind, path: s.slice(pfx.length) };
      const tr = t ?? transport;
      if (tr) addr.transport = tr;
      return { ok: true, addr };
    }
  }
  if (s.startsWith('/')) {
    const addr: OtherAddress = { kind: 'unix', path: s };
    if (transport) addr.transport = transport;
    return { ok: true, addr };
  }

  let prefix: AddrFamilyPrefix | undefined;
  let family: 0 | 4 | 6 = 0;
  for (const [pfx, kind, fam, t] of PREFIXES) {
    if (s.startsWith(pfx)) {
      s = s.slice(pfx.length);
      prefix = kind;
      family = fam;
      if (t) transport = t;
      break;
    }
  }

  // The port separator is the last ':' after any ']' (a leading ':' counts: ":80").
  let hostPart = s;
  let portPart = '';
  let hasPort = false;
  for (let i = s.length - 1; i >= 0; i--) {
    if (s[i] === ']') break;
    if (s[i] === ':') {
      hostPart = s.slice(0, i);
      portPart = s.slice(i + 1);
      hasPort = true;
      break;
    }
  }
  if (hasPort && !opts.portOk) return { ok: false, error: `port specification not permitted here in '${str}'` };
  if (!hasPort && opts.portMandatory) return { ok: false, error: `missing port specification in '${str}'` };

  let port = 0;
  let portEnd = 0;
  let portMode: InetAddress['portMode'] = 'none';
  const minPort = opts.portMandatory ? 1 : 0;
  if (/^[0-9]/.test(portPart)) {
    const dash = portPart.indexOf('-');
    let p1 = portPart;
    let p2 = portPart;
    if (dash >= 0) {
      if (!opts.portRange) return { ok: false, error: `port range not permitted here in '${str}'` };
      p1 = portPart.slice(0, dash);
      p2 = portPart.slice(dash + 1);
    }
    const lo = cAtoi(p1);
    const hi = cAtoi(p2);
    if (lo < minPort || lo > 65535) return { ok: false, error: `invalid port '${p1}'` };
    if (hi < minPort || hi > 65535) return { ok: false, error: `invalid port '${p2}'` };
    if (lo > hi) return { ok: false, error: `invalid port range '${lo}-${hi}'` };
    port = lo;
    portEnd = hi;
    portMode = 'absolute';
  } else if (portPart.startsWith('-') || portPart.startsWith('+')) {
    if (!opts.portOffset) return { ok: false, error: `port offset not permitted here in '${str}'` };
    const n = cAtoi(portPart.slice(1));
    port = portPart.startsWith('-') ? -n : n;
    portEnd = port;
    portMode = 'offset';
  } else if (portPart !== '') {
    return { ok: false, error: `invalid character '${portPart[0]}' in port number '${portPart}' in '${str}'` };
  } else if (opts.portMandatory) {
    return { ok: false, error: `missing port specification in '${str}'` };
  }

  const host = parseHost(hostPart, family);
  const base = { kind: 'inet' as const, port, portEnd, portMode };
  const extra: Partial<InetAddress> = {};
  if (prefix) extra.prefix = prefix;
  if (transport) extra.transport = transport;
  if (host === 'invalid') return { ok: false, error: `invalid address: '${hostPart}' in '${str}'` };
  if (host === 'name') return { ok: true, addr: { ...base, ...extra, host: '', family, fqdn: hostPart } };
  return { ok: true, addr: { ...base, ...extra, host: host.host, family: host.family } };
}

/** Classifies a host: literal (with family), wildcard, a name to resolve, or invalid. */
function parseHost(h: string, family: 0 | 4 | 6): { host: string; family: 4 | 6 } | 'name' | 'invalid' {
  let s = h;
  if (s.startsWith('[')) {
    if (s.length < 4 || !s.endsWith(']')) return 'invalid';
    s = s.slice(1, -1);
    if (isIP(s) !== 6) return 'invalid';
  }
  if (s === '::') return family === 4 ? 'invalid' : { host: '::', family: 6 };
  if (s === '' || s === '*') return family === 6 ? { host: '::', family: 6 } : { host: '0.0.0.0', family: 4 };
  const v = isIP(s);
  if (v === 6) return family === 4 ? 'invalid' : { host: s, family: 6 };
  if (v === 4) return family === 6 ? 'invalid' : { host: s, family: 4 };
  // HAProxy also accepts the short IPv4 forms inet_pton refuses only through the resolver.
  if (/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$/.test(s) && !/^[0-9.]+$/.test(s)) return 'name';
  return 'invalid';
}

function cAtoi(s: string): number {
  const m = /^[+-]?\d+/.exec(s);
  return m ? Number(m[0]) : 0;
}

/**
 * Parses "<address>[/mask]" for `option forwardfor except` (tools.c str2net / str62net): an
 * IPv4 network with a dotted or CIDR mask, or an IPv6 network with a prefix length.
 */
export function parseNetwork(str: string): { addr: string; prefix: number; family: 4 | 6 } | undefined {
  const slash = str.indexOf('/');
  const host = slash < 0 ? str : str.slice(0, slash);
  const mask = slash < 0 ? undefined : str.slice(slash + 1);
  const v = isIP(host);
  if (v === 4) {
    let prefix = 32;
    if (mask !== undefined) {
      if (/^\d+$/.test(mask)) {
        prefix = Number(mask);
        if (prefix > 32) return undefined;
      } else if (isIP(mask) === 4) {
        const bits = mask.split('.').reduce((acc, o) => (acc << 8) | Number(o), 0) >>> 0;
        const inv = ~bits >>> 0;
        if ((inv & (inv + 1)) !== 0) return undefined; // not contiguous
        prefix = 32 - Math.log2(inv + 1);
      } else {
        return undefined;
      }
    }
    return { addr: maskIpv4(host, prefix), prefix, family: 4 };
  }
  if (v === 6) {
    let prefix = 128;
    if (mask !== undefined) {
      if (!/^\d+$/.test(mask) || Number(mask) > 128) return undefined;
      prefix = Number(mask);
    }
    return { addr: maskIpv6(host, prefix), prefix, family: 6 };
  }
  return undefined;
}

function maskIpv4(ip: string, prefix: number): string {
  const n = ip.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const r = (n & m) >>> 0;
  return [r >>> 24, (r >>> 16) & 255, (r >>> 8) & 255, r & 255].join('.');
}

function maskIpv6(ip: string, prefix: number): string {
  const words = expandIpv6(ip);
  const out: string[] = [];
  for (let i = 0; i < 8; i++) {
    const bits = Math.max(0, Math.min(16, prefix - i * 16));
    const m = bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
    out.push((words[i] & m).toString(16));
  }
  return compressIpv6(out);
}

function expandIpv6(ip: string): number[] {
  let s = ip;
  // An embedded IPv4 tail becomes two 16-bit words.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const o = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = s.includes('::') ? 8 - h.length - t.length : 0;
  return [...h, ...Array<string>(fill).fill('0'), ...t].map((w) => parseInt(w, 16));
}

function compressIpv6(words: string[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
}
