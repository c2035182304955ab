// Shared set-up for the HTTP/1.1 data-plane integration tests: configurations built from a few
// lines per section, and peers (sluice, haproxy, origins) whose shutdown is tied to the test.
import type { TestContext } from 'node:test';
import {
  freePort,
  startHaproxy,
  startOrigin,
  startRawServer,
  startSluice,
  type Origin,
  type ProcHandle,
  type RawConn,
  type RawServer,
} from '../../harness/index.js';

export interface ProxySpec {
  /** Port of the frontend. */
  port: number;
  /** `server` lines of the backend, without the keyword (e.g. "s1 127.0.0.1:8000 maxconn 1"). */
  servers: string[];
  /** Extra lines for the defaults section (after mode http and the default timeouts). */
  defaults?: string[];
  /** Extra lines for the frontend. */
  frontend?: string[];
  /** Extra lines for the backend. */
  backend?: string[];
  global?: string[];
}

/** Timeouts every configuration starts from; a later line of the same timeout wins. */
export const BASE_TIMEOUTS = ['timeout connect 1s', 'timeout client 10s', 'timeout server 10s'];

/** A complete configuration: one frontend on 127.0.0.1:port routing to one backend `be`. */
export function proxyConfig(p: ProxySpec): string {
  const ind = (lines: string[] | undefined): string => (lines ?? []).map((l) => `    ${l}\n`).join('');
  return (
    `global\n${ind(p.global)}` +
    `defaults\n    mode http\n${ind(BASE_TIMEOUTS)}${ind(p.defaults)}` +
    `frontend fe\n    bind 127.0.0.1:${p.port}\n    default_backend be\n${ind(p.frontend)}` +
    `backend be\n${ind(p.backend)}${p.servers.map((s) => `    server ${s}\n`).join('')}`
  );
}

/** Starts sluice with `config`, waits for `ports`, and stops it when the test ends. */
export async function sluiceFor(t: TestContext, config: string, ports: number[]): Promise<ProcHandle> {
  const s = await startSluice(config, { waitPorts: ports });
  t.after(() => s.stop());
  return s;
}

/** Starts haproxy with `config`, waits for `ports`, and stops it when the test ends. */
export async function haproxyFor(t: TestContext, config: string, ports: number[]): Promise<ProcHandle> {
  const s = await startHaproxy(config, { waitPorts: ports });
  t.after(() => s.stop());
  return s;
}

/** A harness origin closed when the test ends. */
export async function originFor(t: TestContext, name = 'origin'): Promise<Origin> {
  const o = await startOrigin(name);
  t.after(() => o.close());
  return o;
}

/** A scripted raw server closed when the test ends. */
export async function rawServerFor(t: TestContext, script: (c: RawConn) => void | Promise<void>): Promise<RawServer> {
  const s = await startRawServer(script);
  t.after(() => s.close());
  return s;
}

/** Sluice in front of one fresh origin: the common case. Returns the frontend port. */
export async function sluiceToOrigin(
  t: TestContext,
  spec: Omit<ProxySpec, 'port' | 'servers'> & { serverArgs?: string } = {},
): Promise<{ port: number; origin: Origin; proc: ProcHandle }> {
  const origin = await originFor(t, 'o1');
  const port = await freePort();
  const cfg = proxyConfig({ ...spec, port, servers: [`s1 127.0.0.1:${origin.port} ${spec.serverArgs ?? ''}`] });
  const proc = await sluiceFor(t, cfg, [port]);
  return { port, origin, proc };
}

/** The index of the end of the first head (after CRLFCRLF) in `d`, or -1. */
export function headEnd(d: Buffer): number {
  const i = d.indexOf('\r\n\r\n');
  return i < 0 ? -1 : i + 4;
}

/** A predicate that holds once `d` contains `text`. */
export function hasText(text: string): (d: Buffer) => boolean {
  return (d) => d.includes(text);
}

/**
 * "host:port" where nothing listens, so that connecting is refused. The port comes from the OS on
 * a loopback address nobody else binds: a port merely released on 127.0.0.1 could be taken by
 * another test's listener running in parallel.
 */
export async function deadAddr(): Promise<string> {
  const host = '127.0.0.254';
  return `${host}:${await freePort(host)}`;
}

/** Resolves after `ms` (only for letting a timeout that is under test expire). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `pred` every 10 ms until it holds; rejects after timeoutMs (default 3000). */
export async function until(pred: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}
