// HTTP/2 at the frame level, for tests whose point is the exact frames and their timing (a client
// that sends its requests before reading the server's SETTINGS, for instance), where a real client
// library would wait or reorder. Only what such tests need: building a few frame types with a
// literal-only HPACK block, and splitting received bytes into frames.

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FrameType = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

/** One frame: 9-byte header then the payload. */
export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

function hpackString(s: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  if (b.length >= 127) throw new Error('hpackString: test strings stay under 127 bytes');
  return Buffer.concat([Buffer.from([b.length]), b]);
}

/**
 * A header block of literal fields "without indexing, new name" (0x00), so the block means the
 * same thing whatever the decoder's dynamic table holds.
 */
export function headerBlock(fields: Array<[string, string]>): Buffer {
  return Buffer.concat(fields.flatMap(([n, v]) => [Buffer.from([0]), hpackString(n), hpackString(v)]));
}

/** A GET request on `stream`, ending the stream with its HEADERS frame. */
export function getRequest(stream: number, path: string, authority = 'h2.test'): Buffer {
  const block = headerBlock([
    [':method', 'GET'],
    [':scheme', 'http'],
    [':authority', authority],
    [':path', path],
  ]);
  return frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, stream, block);
}

/** Splits `buf` into the complete frames it holds (a trailing partial frame is left out). */
export function parseFrames(buf: Buffer): Frame[] {
  const out: Frame[] = [];
  let off = 0;
  while (off + 9 <= buf.length) {
    const len = buf.readUIntBE(off, 3);
    if (off + 9 + len > buf.length) break;
    out.push({ type: buf[off + 3]!, flags: buf[off + 4]!, stream: buf.readUInt32BE(off + 5) & 0x7fffffff, payload: buf.subarray(off + 9, off + 9 + len) });
    off += 9 + len;
  }
  return out;
}

/** How each client stream ended so far: 'end' (END_STREAM received), an RST_STREAM code, or absent. */
export function streamEnds(frames: Frame[]): Map<number, 'end' | number> {
  const ends = new Map<number, 'end' | number>();
  for (const f of frames) {
    if (f.stream === 0 || ends.has(f.stream)) continue;
    if (f.type === FrameType.RST_STREAM) ends.set(f.stream, f.payload.readUInt32BE(0));
    else if ((f.type === FrameType.DATA || f.type === FrameType.HEADERS) && f.flags & Flag.END_STREAM) ends.set(f.stream, 'end');
  }
  return ends;
}
