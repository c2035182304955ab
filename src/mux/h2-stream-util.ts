// Two steps both HTTP/2 sides take on a node:http2 stream: ending an outgoing message (trailers
// or an empty DATA frame carrying END_STREAM), and telling a real END_STREAM from a stream that
// closed before it.

import type * as http2 from 'node:http2';
import type { HtxHeaders } from '../htx/index.js';
import { trailersToH2 } from '../proto/h2/index.js';

/**
 * Ends a stream opened with `waitForTrailers`: trailer fields if the message has some, otherwise
 * an empty DATA frame with END_STREAM; a stream that cannot take them is reset with `code`.
 */
export function endWithTrailers(st: http2.Http2Stream, t: HtxHeaders | undefined, code: number): void {
  try {
    st.sendTrailers(t !== undefined && t.length > 0 ? trailersToH2(t) : {});
  } catch {
    st.close(code);
  }
}

/**
 * Calls `cb` once the peer's END_STREAM has arrived and the body before it was read. node ends
 * the readable side of a stream for END_STREAM, and also when the stream closes without it
 * (RST_STREAM with NO_ERROR): only the first happens while the stream is still open. A stream
 * whose HEADERS carried END_STREAM ended before anyone could watch (`endAfterHeaders`).
 */
export function onEndStream(st: http2.Http2Stream, cb: () => void): void {
  let got = st.endAfterHeaders;
  const push = st.push;
  st.push = (chunk: unknown, enc?: BufferEncoding): boolean => {
    if (chunk === null && !st.closed) got = true;
    return push.call(st, chunk, enc);
  };
  st.on('end', () => {
    if (got) cb();
  });
}
