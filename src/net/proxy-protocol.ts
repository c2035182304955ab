// The PROXY protocol header sluice sends first on a connection to a server (`send-proxy`,
// `send-proxy-v2`, `check-send-proxy`, `tcp-check connect send-proxy`): version 1 is the text
// line "PROXY TCP4 <src> <dst> <sport> <dport>\r\n", version 2 the binary header, both as
// HAProxy's make_proxy_line builds them (addresses of different families give "PROXY UNKNOWN" in
// version 1 and the LOCAL command in version 2).

import * as net from 'node:net';

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** "::ffff:192.0.2.1" is the IPv4 address it maps. */
function plain(ip: string): string {
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

/** The header for a connection from `src`:`sport` to `dst`:`dport` (the client's, for traffic). */
export function proxyHeader(version: 1 | 2, src: string, sport: number, dst: string, dport: number): Buffer {
  const s = plain(src);
  const d = plain(dst);
  const fam = net.isIPv4(s) && net.isIPv4(d) ? 4 : net.isIPv6(s) && net.isIPv6(d) ? 6 : 0;
  if (version === 1) {
    if (fam === 0) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
    return Buffer.from(`PROXY TCP${fam} ${s} ${d} ${sport} ${dport}\r\n`, 'latin1');
  }
  if (fam === 0) return Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  const alen = fam === 4 ? 4 : 16;
  const out = Buffer.alloc(16 + 2 * alen + 4);
  V2_SIGNATURE.copy(out, 0);
  out[12] = 0x21; // version 2, PROXY
  out[13] = fam === 4 ? 0x11 : 0x21; // TCP over IPv4 / IPv6
  out.writeUInt16BE(2 * alen + 4, 14);
  ipBytes(s, fam).copy(out, 16);
  ipBytes(d, fam).copy(out, 16 + alen);
  out.writeUInt16BE(sport, 16 + 2 * alen);
  out.writeUInt16BE(dport, 18 + 2 * alen);
  return out;
}

function ipBytes(ip: string, fam: 4 | 6): Buffer {
  if (fam === 4) return Buffer.from(ip.split('.').map(Number));
  let text = ip;
  // A dotted IPv4 tail ("::ffff:192.0.2.1" between two IPv6 addresses) is two groups.
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(2).map(Number) as [number, number, number, number];
    text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  // Expand "::" into the missing groups of zeros.
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head === '' ? [] : head!.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
