// A reference runner for interop tests: the same configuration text runs once under sluice and
// once under haproxy, in front of the same origins; the same bytes go to both, and the answers
// are compared. HAProxy 2.6 lower-cases the header names it forwards and emits, so names are
// compared case-insensitively; everything else (status, key header values, body, which server
// answered, whether the connection stays usable) is expected to match.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import {
  freePorts,
  makeTempDir,
  rawConnect,
  startHaproxy,
  startSluice,
  untilResponses,
  parseResponses,
  type DataPredicate,
  type EchoReport,
  type H1Message,
  type HeaderField,
  type ProcHandle,
} from '../harness/index.js';


export type ProxyKind = 'sluice' | 'haproxy';

/** One running proxy of a pair. */
export interface ProxySide {
  kind: ProxyKind;
  proc: ProcHandle;
  /** The folder holding its configuration and the `files` (what `{{dir}}` became). */
  dir: string;
  /** The configuration text it runs, placeholders substituted. */
  config: string;
  /** The port that `{{port:name}}` became in this proxy's configuration. */
  port(name: string): number;
}

/** The same configuration running under sluice and under haproxy. */
export interface ReferencePair {
  sluice: ProxySide;
  haproxy: ProxySide;
  /** [sluice, haproxy], for loops. */
  sides: readonly [ProxySide, ProxySide];
  /** Stops both proxies and removes their folders. */
  stop(): Promise<void>;
}

export interface PairOptions {
  /** Values for `{{name}}` placeholders, identical in both configurations (origin ports...). */
  values?: Record<string, string | number>;
  /** Files written next to each configuration (error files, maps); `{{dir}}` names that folder. */
  files?: Record<string, string | Buffer>;
  /** Copy both proxies' output to stderr. */
  echo?: boolean;
}

const PLACEHOLDER = /\{\{([a-zA-Z0-9_:.-]+)\}\}/g;

/** The `{{port:NAME}}` names used by a template, each once, in order of first use. */
export function templatePorts(template: string): string[] {
  const names: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) {
    const key = m[1]!;
    if (key.startsWith('port:') && !names.includes(key.slice(5))) names.push(key.slice(5));
  }
  return names;
}

/**
 * Substitutes `{{port:NAME}}` (from `ports`), `{{dir}}` and `{{NAME}}` (from `values`) in a
 * template; throws on a placeholder it has no value for, so that a typo cannot reach a proxy.
 */
export function renderConfig(
  template: string,
  ports: Record<string, number>,
  dir: string,
  values: Record<string, string | number> = {},
): string {
  return template.replace(PLACEHOLDER, (_all, key: string) => {
    if (key === 'dir') return dir;
    if (key.startsWith('port:')) {
      const p = ports[key.slice(5)];
      if (p === undefined) throw new Error(`no port for placeholder {{${key}}}`);
      return String(p);
    }
    const v = values[key];
    if (v === undefined) throw new Error(`no value for placeholder {{${key}}}`);
    return String(v);
  });
}

async function startSide(
  kind: ProxyKind,
  template: string,
  opts: PairOptions,
): Promise<ProxySide> {
  const names = templatePorts(template);
  const list = await freePorts(names.length);
  const ports: Record<string, number> = {};
  names.forEach((n, i) => (ports[n] = list[i]!));
  const dir = makeTempDir(`sluice-ref-${kind}-`);
  const config = renderConfig(template, ports, dir, opts.values);
  const start = kind === 'sluice' ? startSluice : startHaproxy;
  const proc = await start(config, { dir, files: opts.files, waitPorts: list, echo: opts.echo });
  return {
    kind,
    proc,
    dir,
    config,
    port: (name) => {
      const p = ports[name];
      if (p === undefined) throw new Error(`${kind}: no port named '${name}'`);
      return p;
    },
  };
}

/**
 * Starts `template` under sluice and under haproxy (in parallel), each with its own listening
 * ports and folder. Rejects, stopping whichever started, if either fails to start.
 */
export async function startReferencePair(template: string, opts: PairOptions = {}): Promise<ReferencePair> {
  const [s, h] = await Promise.allSettled([startSide('sluice', template, opts), startSide('haproxy', template, opts)]);
  if (s.status === 'rejected' || h.status === 'rejected') {
    if (s.status === 'fulfilled') await s.value.proc.stop();
    if (h.status === 'fulfilled') await h.value.proc.stop();
    throw s.status === 'rejected' ? s.reason : (h as PromiseRejectedResult).reason;
  }
  const sluice = s.value;
  const haproxy = h.value;
  return {
    sluice,
    haproxy,
    sides: [sluice, haproxy],
    stop: async () => {
      await Promise.all([sluice.proc.stop(), haproxy.proc.stop()]);
      for (const side of [sluice, haproxy]) fs.rmSync(side.dir, { recursive: true, force: true });
    },
  };
}

/** What a client saw for the requests of one connection. */
export interface Observed {
  /** The final responses, in order. */
  responses: H1Message[];
  /** The first final response, or undefined when none arrived. */
  first: H1Message | undefined;
  /** Status of the first response, 0 when none. */
  status: number;
  /** X-Server of the first response (which origin answered). */
  server: string | undefined;
  /** The proxy ended the connection (FIN or RST) before the probe or within the bound. */
  closed: boolean;
  /**
   * With `probe`: a further request on the same connection was answered (the connection was
   * kept alive and usable). Undefined without a probe.
   */
  reusable: boolean | undefined;
  /** Everything received, as latin1 text. */
  raw: string;
}

export interface ExchangeOptions {
  /** How many final responses to wait for (default 1). */
  responses?: number;
  /** Methods of the requests, in order (HEAD responses have no body). */
  methods?: string[];
  /** Bound on the exchange, default 5000 ms. */
  timeoutMs?: number;
  /** Parts written one after the other, with this pause between them. */
  pauseMs?: number;
  /**
   * After the responses, send this request on the same connection to learn whether the
   * connection is still usable (`reusable`). Its response is not in `responses`.
   */
  probe?: string;
  /** Half-close after sending. */
  end?: boolean;
}

/** Sends `bytes` (or parts) on a fresh connection to `port` and records what came back. */
export async function exchange(
  port: number,
  bytes: string | Buffer | Array<string | Buffer>,
  opts: ExchangeOptions = {},
): Promise<Observed> {
  const n = opts.responses ?? 1;
  const methods = opts.methods ?? [];
  const timeoutMs = opts.timeoutMs ?? 5000;
  const conn = await rawConnect(port);
  try {
    const parts = Array.isArray(bytes) ? bytes : [bytes];
    for (let i = 0; i < parts.length; i++) {
      if (i > 0 && opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
      await conn.write(parts[i]!);
    }
    if (opts.end) conn.end();
    const until: DataPredicate = untilResponses(n, methods);
    const data = await conn.waitFor(until, timeoutMs);
    const got = Buffer.from(data);
    let closed = conn.ended || conn.closed;
    const responses = parseResponses(got, methods, closed).filter((m) => m.status >= 200 || m.status === 101);
    let reusable: boolean | undefined;
    if (opts.probe !== undefined) {
      if (closed) {
        reusable = false;
      } else {
        const before = got.length;
        await conn.write(opts.probe);
        const after = await conn.waitFor(
          (d) => untilResponses(1, ['GET'])(d.subarray(before)),
          timeoutMs,
        );
        reusable = untilResponses(1, ['GET'])(after.subarray(before));
        if (!reusable) closed = true;
      }
    }
    const first = responses[0];
    return {
      responses,
      first,
      status: first?.status ?? 0,
      server: first ? headerOf(first.headers, 'x-server') : undefined,
      closed,
      reusable,
      raw: got.toString('latin1'),
    };
  } finally {
    conn.destroy();
  }
}

/** Runs the same exchange against the port `portName` of both proxies, concurrently. */
export async function exchangeBoth(
  pair: ReferencePair,
  portName: string,
  bytes: string | Buffer | Array<string | Buffer>,
  opts: ExchangeOptions = {},
): Promise<{ sluice: Observed; haproxy: Observed }> {
  const [sluice, haproxy] = await Promise.all([
    exchange(pair.sluice.port(portName), bytes, opts),
    exchange(pair.haproxy.port(portName), bytes, opts),
  ]);
  return { sluice, haproxy };
}

/** First value of a header, name compared case-insensitively. */
export function headerOf(headers: readonly HeaderField[], name: string): string | undefined {
  const l = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === l) return v;
  return undefined;
}

/** Header fields with lower-case names, sorted, without the names in `ignore` (lower-case). */
export function normalizedHeaders(headers: readonly HeaderField[], ignore: readonly string[] = []): string[] {
  return headers
    .filter(([n]) => !ignore.includes(n.toLowerCase()))
    .map(([n, v]) => `${n.toLowerCase()}: ${v}`)
    .sort();
}

export interface CompareOptions {
  /** Compare these headers' values (lower-case names); default DEFAULT_KEY_HEADERS. */
  headers?: readonly string[];
  /** Compare the whole header set (names case-insensitive, order-free) except these names. */
  allHeadersExcept?: readonly string[];
  /** Compare the HTTP version of the status lines (default true). */
  version?: boolean;
  /** Compare the body bytes (default true). */
  body?: boolean;
  /** Compare whether the connection stayed usable (needs a probe; default true when probed). */
  reusable?: boolean;
}

/** Headers whose values both proxies must agree on by default. */
export const DEFAULT_KEY_HEADERS: readonly string[] = [
  'content-type',
  'content-length',
  'transfer-encoding',
  'cache-control',
  'x-server',
  'location',
];

/** A short description of an observation for assertion messages. */
export function describeObserved(o: Observed): string {
  const head = o.first ? o.first.rawHead.replace(/\r\n/g, '\n  ') : '(no response)';
  return `status=${o.status} server=${o.server} closed=${o.closed} reusable=${o.reusable}\n  ${head}`;
}

/**
 * Asserts that sluice's answer matches haproxy's: same number of responses, and for each the
 * same status, key header values, body and server; and, when probed, the same connection fate.
 */
export function assertSame(
  label: string,
  got: { sluice: Observed; haproxy: Observed },
  opts: CompareOptions = {},
): void {
  const { sluice: s, haproxy: h } = got;
  const ctx = `${label}\n sluice:  ${describeObserved(s)}\n haproxy: ${describeObserved(h)}`;
  assert.equal(s.responses.length, h.responses.length, `${ctx}\nnumber of responses differs`);
  const keys = opts.headers ?? DEFAULT_KEY_HEADERS;
  for (let i = 0; i < h.responses.length; i++) {
    const a = s.responses[i]!;
    const b = h.responses[i]!;
    assert.equal(a.status, b.status, `${ctx}\nresponse ${i}: status differs`);
    if (opts.version ?? true) assert.equal(a.version, b.version, `${ctx}\nresponse ${i}: status line version differs`);
    for (const k of keys) {
      assert.equal(headerOf(a.headers, k), headerOf(b.headers, k), `${ctx}\nresponse ${i}: header '${k}' differs`);
    }
    if (opts.allHeadersExcept) {
      assert.deepEqual(
        normalizedHeaders(a.headers, opts.allHeadersExcept),
        normalizedHeaders(b.headers, opts.allHeadersExcept),
        `${ctx}\nresponse ${i}: header sets differ`,
      );
    }
    if (opts.body ?? true) {
      assert.ok(a.body.equals(b.body), `${ctx}\nresponse ${i}: body differs:\n  sluice:  ${a.body.toString('latin1').slice(0, 300)}\n  haproxy: ${b.body.toString('latin1').slice(0, 300)}`);
    }
  }
  if ((opts.reusable ?? true) && s.reusable !== undefined && h.reusable !== undefined) {
    assert.equal(s.reusable, h.reusable, `${ctx}\nwhether the connection stays usable differs`);
  }
}

/** The echo origin's report (body of an `echo=1` answer). */
export function echoOf(o: Observed, i = 0): EchoReport {
  const r = o.responses[i];
  assert.ok(r, `no response ${i} to read an echo from`);
  return JSON.parse(r.body.toString('utf8')) as EchoReport;
}

/**
 * An echo report reduced to what both proxies must agree on: method, URI, version, framing,
 * body length and hash, header fields and trailers (lower-case names, in order) minus `ignore`.
 */
export function normalizedEcho(e: EchoReport, ignore: readonly string[] = []): object {
  return {
    server: e.server,
    method: e.method,
    uri: e.uri,
    version: e.version,
    framing: e.framing,
    bodyLength: e.bodyLength,
    bodySha256: e.bodySha256,
    headers: e.headers.filter(([n]) => !ignore.includes(n.toLowerCase())).map(([n, v]) => `${n.toLowerCase()}: ${v}`),
    trailers: e.trailers.map(([n, v]) => `${n.toLowerCase()}: ${v}`),
  };
}

/** A request head ending the header block, `Host: ref.test` first unless `host` is null. */
export function req(
  method: string,
  target: string,
  headers: Array<[string, string]> = [],
  opts: { version?: string; host?: string | null; body?: string | Buffer } = {},
): Buffer {
  let head = `${method} ${target} ${opts.version ?? 'HTTP/1.1'}\r\n`;
  if (opts.host !== null) head += `Host: ${opts.host ?? 'ref.test'}\r\n`;
  for (const [n, v] of headers) head += `${n}: ${v}\r\n`;
  head += '\r\n';
  const body = opts.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body, 'latin1');
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** The probe request used to learn whether a connection is still usable. */
export const PROBE = 'GET /?probe=1 HTTP/1.1\r\nHost: ref.test\r\n\r\n';
