// Shared by the HTTP/2 client-side tests: one request on a fresh connection, and the check that a
// response body from the query-driven origin arrived whole and ended with END_STREAM.
import assert from 'node:assert/strict';
import { H2Client, bodyPattern, type H2RequestOptions, type H2Response } from '../../harness/index.js';
import type { Side } from '../../harness/sides.js';

/** One request on a fresh HTTP/2 connection to the port `name` of `side`. */
export async function h2get(side: Side, name: string, o: H2RequestOptions = {}): Promise<H2Response> {
  const c = await H2Client.connect(side.port(name));
  try {
    return await c.request(o);
  } finally {
    c.destroy();
  }
}

/** A response that arrived whole: status 200, END_STREAM, no reset, the body `size=n` sends. */
export function assertWhole(r: H2Response, n: number, what: string): void {
  const ctx = `${what}: status=${r.status} ended=${r.ended} rst=${r.rstCode} error=${r.error} body=${r.body.length}`;
  assert.equal(r.status, 200, ctx);
  assert.equal(r.ended, true, `${ctx}: END_STREAM expected`);
  assert.equal(r.rstCode, 0, ctx);
  assert.equal(r.body.length, n, ctx);
  assert.ok(r.body.equals(bodyPattern(n)), `${ctx}: body bytes differ`);
}
