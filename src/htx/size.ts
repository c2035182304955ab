// HAProxy's accounting of a message in its buffer. HAProxy keeps a message as blocks (a start
// line, one block per header field, an end-of-headers marker, data) in a buffer of tune.bufsize
// bytes; each block costs a descriptor beside its payload, and the buffer starts with the
// message's own header. Where HAProxy refuses a head as too large, or fails a rewrite that does
// not fit, these figures decide, so that sluice draws the line on the same byte.

import type { HtxHeaders, HtxRequest, HtxResponse } from './index.js';

/** One block's descriptor (struct htx_blk): every block costs it beside its payload. */
export const HTX_BLK = 8;
/** The message's own header at the start of a buffer (struct htx): blocks get bufsize minus it. */
export const HTX_HDR = 48;
/** The fixed part of a start line's payload (struct htx_sl: flags, info, three lengths). */
const HTX_SL = 20;
/** Start line and end of headers: two descriptors, the start line's fixed part, the marker's byte. */
const HEAD_FIXED = 2 * HTX_BLK + HTX_SL + 1;
/** "HTTP/1.1", "HTTP/2.0": a start line always carries 8 characters of version. */
const VERSION_LEN = 8;

/** The room `n` bytes of body take: one data block. */
export function htxDataSize(n: number): number {
  return n > 0 ? n + HTX_BLK : 0;
}

/** The size of the header field blocks: each one a descriptor, its name and its value. */
export function htxFieldsSize(h: HtxHeaders): number {
  let n = (h.length >> 1) * HTX_BLK;
  for (let i = 0; i < h.length; i++) n += h[i]!.length;
  return n;
}

/** The payload of a request's start line block. */
export function htxRequestLine(req: HtxRequest): number {
  return HTX_SL + req.method.length + req.uri.length + VERSION_LEN;
}

/** The payload of a response's status line block (the code takes 3 characters). */
export function htxStatusLine(res: HtxResponse): number {
  return HTX_SL + VERSION_LEN + 3 + res.reason.length;
}

/** The space a request head takes in HAProxy's buffer, as its fields stand now. */
export function htxRequestSize(req: HtxRequest): number {
  return HEAD_FIXED + req.method.length + req.uri.length + VERSION_LEN + htxFieldsSize(req.headers);
}

/** The space a response head takes in HAProxy's buffer, as its fields stand now. */
export function htxResponseSize(res: HtxResponse): number {
  return HEAD_FIXED + VERSION_LEN + 3 + res.reason.length + htxFieldsSize(res.headers);
}

/** The payload bytes alone of a request head (HAProxy's htx->data, what req.len counts). */
export function htxRequestData(req: HtxRequest): number {
  return htxRequestSize(req) - (2 + (req.headers.length >> 1)) * HTX_BLK;
}

/**
 * How much smaller HAProxy's copy of HTTP/1 header fields is than `h` (0 or less): its parser
 * removes the `close` and `keep-alive` tokens of Connection (and the field, left empty), keeps
 * one Content-Length field with one number.
 */
export function htxAdjust(h: HtxHeaders): number {
  let adjust = 0;
  let cl = false;
  for (let i = 0; i < h.length; i += 2) {
    const n = h[i]!;
    const v = h[i + 1]!;
    if (n.length === 10 && n.toLowerCase() === 'connection') {
      const kept = connectionKept(v);
      adjust += kept === 0 ? -(HTX_BLK + n.length + v.length) : kept - v.length;
    } else if (n.length === 14 && n.toLowerCase() === 'content-length') {
      if (cl) {
        adjust -= HTX_BLK + n.length + v.length;
      } else {
        const comma = v.lastIndexOf(',');
        if (comma >= 0) adjust += v.slice(comma + 1).trim().length - v.length;
      }
      cl = true;
    }
  }
  return adjust;
}

/**
 * What HAProxy's HTTP/1 parser leaves of a Connection field once it removed the `close` and
 * `keep-alive` tokens: the length of the value it keeps, 0 when it drops the field.
 */
export function connectionKept(value: string): number {
  let kept = 0;
  let cleaned = false;
  let start = 0;
  while (start < value.length) {
    let end = value.indexOf(',', start);
    if (end < 0) end = value.length;
    let a = start;
    let b = end;
    while (a < b && (value.charCodeAt(a) === 32 || value.charCodeAt(a) === 9)) a++;
    while (b > a && (value.charCodeAt(b - 1) === 32 || value.charCodeAt(b - 1) === 9)) b--;
    const w = b - a;
    if (w > 0) {
      if ((w === 5 && sameToken(value, a, 'close')) || (w === 10 && sameToken(value, a, 'keep-alive'))) cleaned = true;
      // Up to the first removal the value is kept as written; after it, tokens are appended
      // with a bare comma.
      else if (!cleaned) kept = end;
      else kept += (kept > 0 ? 1 : 0) + w;
    }
    start = end + 1;
  }
  return kept;
}

/** `value` holds `token` (lower case) at `at`, in any case. */
function sameToken(value: string, at: number, token: string): boolean {
  for (let i = 0; i < token.length; i++) if ((value.charCodeAt(at + i) | 0x20) !== token.charCodeAt(i)) return false;
  return true;
}
