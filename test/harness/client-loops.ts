// Client load for tests that break things under traffic (servers dropping connections, reloads):
// bounded loops of HTTP/1.1 and HTTP/2 requests through a proxy, each response judged by the test,
// every failure kept with its reason. A client may send a request again when the protocol says it
// was not processed (an HTTP/2 stream refused or beyond a GOAWAY, a reused HTTP/1.1 connection
// closed before any response byte), the way browsers do for idempotent requests; such retries are
// counted apart, and a test decides whether it tolerates them. A connection that cannot be opened
// (refused, reset during the handshake) is always a failure.
import * as http2 from 'node:http2';
import { H2Client, type H2RequestOptions, type H2Response } from './h2.js';
import { HttpClient, type HttpResponse, type RequestOptions } from './http.js';

/** true: the response is right; a string: why it is not. */
export type Verdict = true | string;

export interface LoopOptions {
  port: number;
  /** Requests in flight at once (one connection each for HTTP/1.1, streams of one connection for HTTP/2). */
  workers: number;
  /** Bound on the number of requests, all workers together. */
  maxCount: number;
  /** Bound on the loop's duration; no request starts after it. */
  maxMs: number;
  /** The loop stops once this holds and at least `minCount` requests were sent. */
  until?: () => boolean;
  minCount?: number;
  /** Per request, default 8000 ms: past it the request counts as hung. */
  timeoutMs?: number;
  /** How many times a request not processed may be sent again by the client (default 0). */
  clientRetries?: number;
  /** Count into this tally (to watch the loop while it runs); a fresh one otherwise. */
  tally?: LoopTally;
}

/** What a loop did. */
export interface LoopTally {
  sent: number;
  ok: number;
  /** Requests that did not get a right response (after client retries, if allowed). */
  failed: number;
  /** Of those, requests that got no answer within timeoutMs. */
  hung: number;
  /** Failures by reason. */
  reasons: Map<string, number>;
  /** Requests sent again by the client because the first try was not processed. */
  clientRetried: number;
  /** Connections the client opened. */
  connections: number;
}

/** An empty tally. */
export function newTally(): LoopTally {
  return { sent: 0, ok: 0, failed: 0, hung: 0, reasons: new Map(), clientRetried: 0, connections: 0 };
}

function count(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/** One line for diagnostics: the counts, then the failures by reason. */
export function describeTally(name: string, t: LoopTally): string {
  const r = [...t.reasons].map(([k, v]) => `${k} x${v}`).join('; ');
  const counts = `sent=${t.sent} ok=${t.ok} failed=${t.failed} hung=${t.hung} clientRetried=${t.clientRetried} connections=${t.connections}`;
  return `${name}: ${counts}${r ? ` [${r}]` : ''}`;
}

/** Whether a worker starts another request. */
function shouldGo(o: LoopOptions, t: LoopTally, started: number): boolean {
  if (t.sent >= o.maxCount || Date.now() - started >= o.maxMs) return false;
  if (o.until?.() && t.sent >= (o.minCount ?? 0)) return false;
  return true;
}

/**
 * HTTP/1.1 keep-alive loops, one connection per worker (a new one after a close). `make(i)` is the
 * i-th request, `check` judges its response.
 */
export async function h1Loop(
  o: LoopOptions,
  make: (i: number) => RequestOptions,
  check: (r: HttpResponse, i: number) => Verdict,
): Promise<LoopTally> {
  const t = o.tally ?? newTally();
  const started = Date.now();
  const timeoutMs = o.timeoutMs ?? 8000;
  const worker = async (): Promise<void> => {
    let c: HttpClient | null = null;
    let served = 0;
    while (shouldGo(o, t, started)) {
      const i = t.sent++;
      const req = { ...make(i), timeoutMs };
      let retries = o.clientRetries ?? 0;
      for (;;) {
        if (c === null) {
          try {
            c = await HttpClient.connect(o.port);
            t.connections++;
            served = 0;
          } catch (e) {
            t.failed++;
            count(t.reasons, `connect: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
            break;
          }
        }
        const reused = served > 0;
        let r: HttpResponse;
        try {
          r = await c.request(req);
        } catch (e) {
          const msg = (e as Error).message;
          c.socket.destroy();
          c = null;
          // A reused connection closed or reset before any response byte: the request was not processed.
          const unprocessed = reused && (/^connection closed before/.test(msg) || /ECONNRESET|EPIPE/.test(msg));
          if (unprocessed && retries-- > 0) {
            t.clientRetried++;
            continue;
          }
          t.failed++;
          if (/^no response within/.test(msg)) t.hung++;
          count(t.reasons, `${reused ? 'reused' : 'new'} connection: ${msg.replace(/\d+ body bytes/, 'N body bytes')}`);
          break;
        }
        served++;
        const v = check(r, i);
        if (v === true) t.ok++;
        else {
          t.failed++;
          count(t.reasons, v);
        }
        if (r.connectionClose) {
          await c.close();
          c = null;
        }
        break;
      }
    }
    await c?.close();
  };
  await Promise.all(Array.from({ length: o.workers }, () => worker()));
  return t;
}

const { NGHTTP2_REFUSED_STREAM } = http2.constants;

/**
 * HTTP/2 loops: `workers` streams at a time on one connection, a new connection once it closed or
 * got GOAWAY. `make(i)` is the i-th request, `check` judges its response.
 */
export async function h2Loop(
  o: LoopOptions,
  make: (i: number) => H2RequestOptions,
  check: (r: H2Response, i: number) => Verdict,
): Promise<LoopTally> {
  const t = o.tally ?? newTally();
  const started = Date.now();
  const timeoutMs = o.timeoutMs ?? 8000;
  let client: H2Client | null = null;
  let connecting: Promise<H2Client> | null = null;
  const opened: H2Client[] = [];
  const usable = (c: H2Client | null): c is H2Client => c !== null && !c.closed && !c.session.destroyed && c.goaways.length === 0;
  const get = async (): Promise<H2Client> => {
    if (usable(client)) return client;
    connecting ??= H2Client.connect(o.port).then(
      (c) => {
        t.connections++;
        opened.push(c);
        client = c;
        connecting = null;
        return c;
      },
      (e: unknown) => {
        connecting = null;
        throw e;
      },
    );
    return connecting;
  };
  const worker = async (): Promise<void> => {
    while (shouldGo(o, t, started)) {
      const i = t.sent++;
      const req = { ...make(i), timeoutMs };
      let retries = o.clientRetries ?? 0;
      for (;;) {
        let c: H2Client;
        try {
          c = await get();
        } catch (e) {
          t.failed++;
          count(t.reasons, `connect: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
          break;
        }
        const r = await c.request(req);
        // Refused, or beyond the last stream of a GOAWAY (node closes those with REFUSED_STREAM):
        // the server says it did not process the request.
        const unprocessed = r.status === 0 && r.rstCode === NGHTTP2_REFUSED_STREAM;
        if (unprocessed && retries-- > 0) {
          t.clientRetried++;
          continue;
        }
        const v: Verdict =
          r.error !== null && /^no end within/.test(r.error)
            ? 'hung'
            : r.status === 0
              ? `no response (rst ${r.rstCode}${r.error ? `, ${r.error.replace(/\d+/g, 'N')}` : ''})`
              : check(r, i);
        if (v === true) t.ok++;
        else {
          t.failed++;
          if (v === 'hung') t.hung++;
          count(t.reasons, v);
        }
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: o.workers }, () => worker()));
  await Promise.all(opened.map((c) => c.close()));
  return t;
}

/** The request summary of h2load's output, with the counts the harness's h2load() leaves out. */
export interface H2loadCounts {
  total: number;
  started: number;
  done: number;
  succeeded: number;
  failed: number;
  errored: number;
  timeout: number;
  /** Bytes of DATA payload received, all streams together. */
  dataBytes: number;
}

/** Reads h2load's summary; every field is -1 when the line is missing. */
export function h2loadCounts(stdout: string): H2loadCounts {
  const m = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
  const d = /traffic: .*?, \S+ \((\d+)\) data/.exec(stdout);
  const n = (k: number): number => Number(m?.[k] ?? -1);
  return {
    total: n(1),
    started: n(2),
    done: n(3),
    succeeded: n(4),
    failed: n(5),
    errored: n(6),
    timeout: n(7),
    dataBytes: Number(d?.[1] ?? -1),
  };
}
