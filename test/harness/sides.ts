// One configuration, two proxies: sluice under test and haproxy 2.6 as the reference. A test
// written once as a scenario over a `Side` is registered twice, so that the haproxy run proves
// the expectation itself and the sluice run checks sluice against it. Meant for behaviours that a
// byte comparison of two answers cannot show (timing, logs, connection fate): each scenario
// asserts what HAProxy does, and the two runs must both pass.
//
// Templates use `{{port:NAME}}` for a listening port (fresh per proxy) and `{{NAME}}` for a value
// shared by both (origin ports...). A missing value is an error, never an empty string.
import { test, type TestContext } from 'node:test';
import { which } from './bins.js';
import { freePorts } from './ports.js';
import { makeTempDir, startHaproxy, startSluice, type ProcHandle } from './proc.js';

export type SideKind = 'sluice' | 'haproxy';

/** One running proxy. */
export interface Side {
  kind: SideKind;
  proc: ProcHandle;
  /** Its folder: the configuration and the `files`. */
  dir: string;
  config: string;
  /** The port `{{port:NAME}}` became for this proxy. */
  port(name: string): number;
}

/** sluice, and haproxy when it is installed. */
export interface Sides {
  sluice: Side;
  haproxy: Side | null;
  stop(): Promise<void>;
}

const PLACEHOLDER = /\{\{([a-zA-Z0-9_:.-]+)\}\}/g;

/** Whether the reference is installed: scenarios then run against it too. */
export const haveHaproxy = which('haproxy') !== null;

async function startSide(
  kind: SideKind,
  template: string,
  values: Record<string, string | number>,
  files: Record<string, string | Buffer> | undefined,
): Promise<Side> {
  const names: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) {
    const k = m[1]!;
    if (k.startsWith('port:') && !names.includes(k.slice(5))) names.push(k.slice(5));
  }
  const list = await freePorts(names.length);
  const ports = new Map(names.map((n, i) => [n, list[i]!]));
  const dir = makeTempDir(`sluice-side-${kind}-`);
  const config = template.replace(PLACEHOLDER, (_all, k: string) => {
    if (k === 'dir') return dir;
    if (k.startsWith('port:')) return String(ports.get(k.slice(5)));
    const v = values[k];
    if (v === undefined) throw new Error(`no value for placeholder {{${k}}}`);
    return String(v);
  });
  const start = kind === 'sluice' ? startSluice : startHaproxy;
  const proc = await start(config, { dir, files, waitPorts: list });
  return {
    kind,
    proc,
    dir,
    config,
    port: (name) => {
      const p = ports.get(name);
      if (p === undefined) throw new Error(`${kind}: no port named '${name}'`);
      return p;
    },
  };
}

/** Starts `template` under sluice and (when installed) haproxy, in parallel. */
export async function startSides(
  template: string,
  opts: { values?: Record<string, string | number>; files?: Record<string, string | Buffer> } = {},
): Promise<Sides> {
  const values = opts.values ?? {};
  const [s, h] = await Promise.allSettled([
    startSide('sluice', template, values, opts.files),
    haveHaproxy ? startSide('haproxy', template, values, opts.files) : Promise.resolve(null),
  ]);
  if (s.status === 'rejected' || h.status === 'rejected') {
    if (s.status === 'fulfilled') await s.value.proc.stop();
    if (h.status === 'fulfilled') await h.value?.proc.stop();
    throw s.status === 'rejected' ? s.reason : (h as PromiseRejectedResult).reason;
  }
  const sluice = s.value;
  const haproxy = h.value;
  return {
    sluice,
    haproxy,
    stop: async () => {
      await Promise.all([sluice.proc.stop(), haproxy?.proc.stop()]);
    },
  };
}

export interface SideTestOptions {
  /** The sluice run is a known bug: `todo` with this reason (the haproxy run stays a real test). */
  todo?: string;
  /** Do not run against haproxy, with this reason (a sluice-only behaviour, or 2.6 differs). */
  noReference?: string;
}

/** Proxies started on first use, each kind on its own, by `lazySides`. */
export interface LazySides {
  side(kind: SideKind): Promise<Side>;
  stop(): Promise<void>;
}

/** Where a scenario gets its proxy: sides started in a hook, or lazily. */
export type SideSource = (() => Sides) | LazySides;

function pick(src: SideSource, kind: SideKind): Side | Promise<Side> {
  if (typeof src !== 'function') return src.side(kind);
  const s = src();
  return kind === 'sluice' ? s.sluice : s.haproxy!;
}

/**
 * Registers `name` for sluice and `name [haproxy 2.6]` for the reference. The source is read when
 * the test runs (the proxies usually start in a `before` hook).
 */
export function sideTest(
  name: string,
  src: SideSource,
  fn: (side: Side, t: TestContext) => Promise<void>,
  opts: SideTestOptions = {},
): void {
  test(name, opts.todo !== undefined ? { todo: opts.todo } : {}, async (t) => fn(await pick(src, 'sluice'), t));
  const skip = opts.noReference ?? (haveHaproxy ? false : 'haproxy is not installed');
  test(`${name} [haproxy 2.6]`, { skip }, async (t) => fn(await pick(src, 'haproxy'), t));
}

/**
 * Each proxy started on first use and shared by the tests that use it: a configuration sluice
 * refuses then fails only the sluice runs of those tests, not the file nor the reference runs.
 * `opts` is read at the first start (origins exist by then). Call `stop()` in an `after` hook.
 */
export function lazySides(
  template: string,
  opts: () => { values?: Record<string, string | number>; files?: Record<string, string | Buffer> } = () => ({}),
): LazySides {
  const started = new Map<SideKind, Promise<Side>>();
  return {
    side: (kind) => {
      let p = started.get(kind);
      if (p === undefined) {
        const o = opts();
        p = startSide(kind, template, o.values ?? {}, o.files);
        started.set(kind, p);
      }
      return p;
    },
    stop: async () => {
      for (const p of started.values()) {
        const s = await p.catch(() => null);
        await s?.proc.stop();
      }
    },
  };
}
