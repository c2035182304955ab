// Helpers for health-check tests (issue #5) run on sluice and haproxy 2.6: the check log lines a
// proxy printed (`option log-health-checks` results, server state changes, the backend's "no
// server available"), read from the log on stdout with the check duration masked; a scenario
// registered once per proxy kind when it needs servers or a proxy of its own; and an HTTP/1
// server whose answer to each request path is a script, for answers the query-driven origin
// cannot give (a head and its body in two reads, a reason phrase of our own, a server that
// changes its mind between checks).
import { test, type TestContext } from 'node:test';
import { startHaproxy, startSluice, type ProcHandle, type StartOptions } from './proc.js';
import { startRawServer, type RawConn, type RawServer } from './rawpeer.js';
import { haveHaproxy, type SideKind } from './sides.js';

/** A log line about health: a check result, a server state change, a backend left without servers. */
const HEALTH = /^(Health check for |Server [^ ]+ is |backend [^ ]+ has no server available!|Backup Server )/;
const DURATION = /check duration: -?\d+ms/;

/** `check duration: 12ms` becomes `check duration: Nms` (it varies from run to run). */
export function maskDuration(line: string): string {
  return line.replace(DURATION, 'check duration: Nms');
}

/** The check duration a line reports, in ms (NaN when it has none). */
export function checkDuration(line: string): number {
  const m = /check duration: (-?\d+)ms/.exec(line);
  return m ? Number(m[1]) : NaN;
}

/** Whether a health line is about backend `be` (or its server `be/srv` when given). */
function about(line: string, be: string, srv?: string): boolean {
  if (srv !== undefined) return line.includes(` ${be}/${srv} `) || line.includes(` ${be}/${srv},`);
  return line.includes(` ${be}/`) || line.startsWith(`backend ${be} `);
}

/**
 * The health log lines on stdout (the log target; stderr repeats some of them as [WARNING]),
 * from line index `from`, optionally only those about backend `be` (and server `srv`), durations
 * masked unless `raw`.
 */
export function healthLines(p: ProcHandle, o: { from?: number; be?: string; srv?: string; raw?: boolean } = {}): string[] {
  return p
    .lines()
    .slice(o.from ?? 0)
    .filter((l) => l.stream === 'stdout' && HEALTH.test(l.text))
    .map((l) => l.text)
    .filter((t) => o.be === undefined || about(t, o.be, o.srv))
    .map((t) => (o.raw ? t : maskDuration(t)));
}

/** The health lines with the time each arrived (Date.now()), unmasked. */
export function timedHealthLines(p: ProcHandle, o: { from?: number; be?: string; srv?: string } = {}): Array<{ text: string; at: number }> {
  return p
    .lines()
    .slice(o.from ?? 0)
    .filter((l) => l.stream === 'stdout' && HEALTH.test(l.text) && (o.be === undefined || about(l.text, o.be, o.srv)))
    .map((l) => ({ text: l.text, at: l.at }));
}

/**
 * Waits until at least `n` health lines about `be` (from index `from`) are there and resolves
 * with them (masked); rejects with the process output after timeoutMs.
 */
export async function waitHealthLines(
  p: ProcHandle,
  n: number,
  o: { from?: number; be?: string; srv?: string; timeoutMs?: number; raw?: boolean } = {},
): Promise<string[]> {
  let seen = 0;
  await p.waitForLine(
    (l) => {
      if (!HEALTH.test(l) || l.startsWith('[')) return false;
      if (o.be !== undefined && !about(l, o.be, o.srv)) return false;
      return ++seen >= n;
    },
    o.timeoutMs ?? 5000,
    o.from ?? 0,
  );
  return healthLines(p, o).slice(0, n);
}

/** Waits for a health line (stdout) matching `match`, from line index `from`. */
export function waitHealth(p: ProcHandle, match: RegExp | string, timeoutMs = 5000, from = 0): Promise<string> {
  return p.waitForLine(
    (l) => !l.startsWith('[') && HEALTH.test(l) && (typeof match === 'string' ? l.includes(match) : match.test(l)),
    timeoutMs,
    from,
  );
}

/** Starts sluice or haproxy on `config`. */
export function startKind(kind: SideKind, config: string, opts: StartOptions = {}): Promise<ProcHandle> {
  return (kind === 'sluice' ? startSluice : startHaproxy)(config, opts);
}

export interface KindTestOptions {
  /** The sluice run is a known bug, for this reason (the haproxy run stays a real test). */
  todo?: string;
  /** Do not run against haproxy, for this reason (sluice-only behaviour, or 2.6 differs). */
  noReference?: string;
}

/**
 * Registers `name` (sluice) and `name [haproxy 2.6]`, for scenarios that start their own servers
 * and proxy (stateful servers, timing): `fn` gets the kind of proxy to start.
 */
export function kindTest(name: string, fn: (kind: SideKind, t: TestContext) => Promise<void>, opts: KindTestOptions = {}): void {
  test(name, opts.todo !== undefined ? { todo: opts.todo } : {}, (t) => fn('sluice', t));
  const skip = opts.noReference ?? (haveHaproxy ? false : 'haproxy is not installed');
  test(`${name} [haproxy 2.6]`, { skip }, (t) => fn('haproxy', t));
}

/** One HTTP/1 request as the scripted server read it. */
export interface ScriptedRequest {
  /** The head, latin1, up to and including the blank line. */
  head: string;
  method: string;
  uri: string;
  /** The path without the query. */
  path: string;
  /** Value of a header (first one, name case-insensitive). */
  header(name: string): string | undefined;
  /** Accept order of its connection on this server (1-based). */
  conn: number;
  /** The PROXY protocol line that came first (without its CRLF), or null. */
  proxy: string | null;
  /** Date.now() when the request was complete. */
  at: number;
}

/** What a route does with the connection once the request is read; it may end or keep it. */
export type Route = (c: RawConn, req: ScriptedRequest) => Promise<void> | void;

export interface ScriptedHttp extends RawServer {
  /** Requests read so far, in order. */
  requests: ScriptedRequest[];
}

/** Reads one request head (and a Content-Length body) off `c`; null when the peer went away first. */
export async function readRequest(c: RawConn, conn: number, timeoutMs = 5000): Promise<ScriptedRequest | null> {
  const d = await c.waitFor((b) => {
    const t = b.toString('latin1');
    const end = t.indexOf('\r\n\r\n');
    if (end < 0) return false;
    const m = /\r\ncontent-length: *(\d+)/i.exec(t.slice(0, end));
    return b.length >= end + 4 + (m ? Number(m[1]) : 0);
  }, timeoutMs);
  const t = d.toString('latin1');
  const end = t.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = t.slice(0, end + 4);
  const lines = head.split('\r\n');
  // A PROXY line may come first.
  const start = lines[0]!.startsWith('PROXY ') ? 1 : 0;
  const [method = '', uri = ''] = lines[start]!.split(' ');
  const q = uri.indexOf('?');
  return {
    head,
    method,
    uri,
    path: q < 0 ? uri : uri.slice(0, q),
    header: (name) => {
      const l = name.toLowerCase();
      for (const x of lines.slice(start + 1)) {
        const i = x.indexOf(':');
        if (i > 0 && x.slice(0, i).toLowerCase() === l) return x.slice(i + 1).trim();
      }
      return undefined;
    },
    conn,
    proxy: start === 1 ? lines[0]! : null,
    at: Date.now(),
  };
}

/**
 * An HTTP/1 server on `host` (127.0.0.1) answering each request with the route of its path
 * (`fallback` when none: 404). One request per connection: routes write what they like, then the
 * connection is closed (FIN) unless the route destroyed or reset it itself.
 */
export async function startScriptedHttp(routes: Record<string, Route>, fallback?: Route, host = '127.0.0.1'): Promise<ScriptedHttp> {
  const requests: ScriptedRequest[] = [];
  let count = 0;
  const srv = await startRawServer(async (c) => {
    const id = ++count;
    c.socket.on('error', () => {});
    const req = await readRequest(c, id);
    if (req === null) return c.destroy();
    requests.push(req);
    const route = routes[req.path] ?? fallback ?? ((x: RawConn) => x.write('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n'));
    await route(c, req);
    if (!c.socket.destroyed) c.end();
  }, host);
  return Object.assign(srv, { requests });
}

/** A complete HTTP/1.1 response: status line, the headers given, content-length, body. */
export function httpResponse(status: number, reason: string, body = '', headers: string[] = []): string {
  return `HTTP/1.1 ${status} ${reason}\r\n${headers.map((h) => `${h}\r\n`).join('')}content-length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`;
}

/** A bounded pause, for scripted peers (never to wait for a proxy: wait on its lines). */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const REASONS: Record<number, string> = { 200: 'OK', 204: 'No Content', 301: 'Moved Permanently', 404: 'Not Found', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** What a sequence server does for one check: a status (empty body), or a route. */
export type CheckAnswer = number | Route;

export interface SequenceServer extends ScriptedHttp {
  /** Answers still to give, in order; the last one repeats. */
  queue: CheckAnswer[];
  /** From now on, answer every check with `a`. */
  set(a: CheckAnswer): void;
  /** The check requests received so far (those on the check path). */
  checks(): ScriptedRequest[];
}

/**
 * A server whose answers to checks (requests on `checkPath`) follow `answers` one check after
 * the other, the last one repeating; any other path is traffic, answered 200 with body
 * `traffic` (or by `traffic` when it is a route).
 */
export async function startSequenceServer(checkPath: string, answers: CheckAnswer[], traffic?: Route, host = '127.0.0.1'): Promise<SequenceServer> {
  const queue = [...answers];
  const answer = async (c: RawConn, req: ScriptedRequest): Promise<void> => {
    const a = queue.length > 1 ? queue.shift()! : queue[0]!;
    if (typeof a === 'number') await c.write(httpResponse(a, REASONS[a] ?? 'Status'));
    else await a(c, req);
  };
  const srv = await startScriptedHttp({ [checkPath]: answer }, traffic ?? ((c) => c.write(httpResponse(200, 'OK', 'traffic', ['connection: close']))), host);
  return Object.assign(srv, {
    queue,
    set: (a: CheckAnswer) => {
      queue.length = 0;
      queue.push(a);
    },
    checks: () => srv.requests.filter((r) => r.path === checkPath),
  });
}
