// HTTP actions that do not need the ACL engine: `http-request return` and `option forwardfor`.

import * as net from 'node:net';
import type { ForwardForConfig } from '../config/model.js';
import { headerGet, type HtxHeaders } from '../htx/index.js';
import { reasonPhrase } from '../proto/h1/index.js';

/**
 * A complete HTTP/1.1 response for `http-request return`, built once per rule at start-up
 * when it has no dynamic parts.
 */
export function localResponse(status: number, contentType: string | undefined, body: string | undefined, headers: ReadonlyArray<readonly [string, string]>, headOnly = false): Buffer {
  const payload = body !== undefined ? Buffer.from(body, 'utf8') : Buffer.alloc(0);
  let head = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
  if (contentType !== undefined && payload.length > 0) head += `content-type: ${contentType}\r\n`;
  for (const [n, v] of headers) head += `${n}: ${v}\r\n`;
  head += `content-length: ${payload.length}\r\n\r\n`;
  if (headOnly) return Buffer.from(head, 'latin1');
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}

/** Adds the client address header of `option forwardfor` to a request's headers. */
export function applyForwardFor(h: HtxHeaders, cfg: ForwardForConfig, clientIp: string): void {
  if (cfg.ifNone && headerGet(h, cfg.header.toLowerCase()) !== undefined) return;
  if (cfg.except && inNetwork(clientIp, cfg.except.addr, cfg.except.prefix, cfg.except.family)) return;
  h.push(cfg.header, clientIp);
}

const blockLists = new Map<string, net.BlockList>();

/** True when `ip` lies in `addr/prefix`. */
export function inNetwork(ip: string, addr: string, prefix: number, family: 4 | 6): boolean {
  const key = `${addr}/${prefix}`;
  let bl = blockLists.get(key);
  if (!bl) {
    bl = new net.BlockList();
    bl.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
    blockLists.set(key, bl);
  }
  const fam = net.isIPv4(ip) ? 'ipv4' : 'ipv6';
  return bl.check(ip, fam);
}
