// sluice's own responses (error pages, errorfiles, rule replies) are HTTP/1 bytes, as HAProxy
// keeps them. A client side that speaks another version reads them back into htx here.

import type { HtxHeaders, HtxRequest, HtxResponse } from '../../htx/index.js';
import { H1ErrorKind, H1Parser, type H1ParserEvents } from './parser.js';

const LIMITS = { maxHead: 1 << 20, maxHeaders: 1000 };

class Collector implements H1ParserEvents {
  res: HtxResponse | null = null;
  body: Buffer[] = [];
  trailers: HtxHeaders | undefined;
  onRequest(_req: HtxRequest): void {}
  onResponse(res: HtxResponse): void {
    // Interim responses before the final one are not part of a reply.
    if (res.status >= 200) this.res = res;
  }
  onData(d: Buffer): void {
    this.body.push(d);
  }
  onTrailers(t: HtxHeaders): void {
    this.trailers = t;
  }
  onEnd(): void {}
  onError(_kind: H1ErrorKind, _reason: string): void {}
}

/**
 * The message of a complete HTTP/1 response built by sluice, answering `method`; null if the
 * bytes are not one (a broken errorfile).
 */
export function parseLocalResponse(raw: Buffer, method: string): { res: HtxResponse; body: Buffer } | null {
  const c = new Collector();
  const p = new H1Parser(false, c, LIMITS);
  p.requestMethod = method;
  p.feed(raw);
  // A close-delimited body ends with the bytes.
  p.finish();
  if (c.res === null) return null;
  return { res: c.res, body: c.body.length === 1 ? c.body[0]! : Buffer.concat(c.body) };
}
