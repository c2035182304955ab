// `bind <addr>[,<addr>...] [options]` (cfgparse-listen.c, cfgparse.c str2listener, listener.c).
// Each address of a comma-separated list becomes one BindConfig sharing the options.

import { parseAddress, type InetAddress } from './address.js';
import { BIND_UNSUPPORTED, notSupportedYet } from './known-keywords.js';
import {
  findBindOption,
  registerBindOptions,
  registerProxyKeywords,
  registeredNames,
  suggest,
  type BindOptionDef,
  type ProxyContext,
} from './registry.js';
import type { BindDraft } from './state.js';
import { atol } from './units.js';

/** Bind options that only tune things sluice does not control; kept in rawArgs, no effect. */
const NOOP_BIND_OPTIONS: Array<[string, number]> = [
  ['backlog', 1],
  ['defer-accept', 0],
  ['id', 1],
  ['nice', 1],
  ['process', 1],
  ['shards', 1],
  ['thread', 1],
];

/**
 * The address list of each bind as its line wrote it: HAProxy makes one bind of a line and names
 * it so in the messages of its checks after parsing.
 */
const specs = new WeakMap<BindDraft, string>();

/** The address list of the line a bind comes from (`bind <addresses> ...`). */
export function bindSpec(b: BindDraft): string {
  return specs.get(b) ?? b.text;
}

function needValue(what: string): (ctx: { args: string[]; cur: number }) => string | undefined {
  return (ctx) => (ctx.args[ctx.cur + 1] === undefined ? `'${ctx.args[ctx.cur]}' : missing ${what}` : undefined);
}

registerBindOptions([
  {
    name: 'name',
    args: 1,
    parse(ctx) {
      const v = ctx.args[ctx.cur + 1];
      if (v === undefined) return "'name' : missing name";
      for (const b of ctx.bind) b.name = v;
      return undefined;
    },
  },
  {
    name: 'maxconn',
    args: 1,
    parse(ctx) {
      const v = ctx.args[ctx.cur + 1];
      if (v === undefined) return "'maxconn' : missing value";
      const n = atol(v);
      if (n < 0) return `'maxconn' : invalid value ${n}, must be >= 0`;
      for (const b of ctx.bind) b.maxconn = n;
      return undefined;
    },
  },
  {
    name: 'v4v6',
    args: 0,
    parse(ctx) {
      for (const b of ctx.bind) b.v6only = false;
      return undefined;
    },
  },
  {
    name: 'v6only',
    args: 0,
    parse(ctx) {
      for (const b of ctx.bind) b.v6only = true;
      return undefined;
    },
  },
  ...NOOP_BIND_OPTIONS.map(([name, args]): BindOptionDef => ({ name, args, parse: args ? needValue('value') : () => undefined })),
]);

function parseBind(ctx: ProxyContext): void {
  const { args, report, proxy, state } = ctx;
  const spec = args[1];
  if (spec === undefined) {
    report.alert("'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.");
    return;
  }
  const binds: BindDraft[] = [];
  for (const part of spec.split(',')) {
    if (part === '') continue;
    const r = parseAddress(part, { portOk: true, portMandatory: true, portRange: true, portOffset: false }, state.env);
    if (!r.ok) {
      report.alert(`'bind' : ${r.error}`);
      return;
    }
    const a = r.addr;
    if (a.kind !== 'inet') {
      const what = { unix: 'UNIX sockets', abns: 'abstract UNIX sockets', fd: 'inherited file descriptors', sockpair: 'socket pairs', quic: 'QUIC' }[a.kind];
      report.alert(`'bind' : ${notSupportedYet(`${what} ('${part}')`, true)}`);
      return;
    }
    if (a.transport === 'dgram') {
      report.alert(`'bind' : dgram-type address not acceptable in '${part}'`);
      return;
    }
    if (a.portEnd !== a.port) {
      report.alert(`'bind' : ${notSupportedYet(`port ranges ('${part}')`, true)}`);
      return;
    }
    binds.push({ addr: a as InetAddress, text: part, maxconn: 0, v6only: false, rawArgs: args.slice(2), loc: ctx.loc });
  }
  for (const b of binds) specs.set(b, spec);

  const where = `'bind ${spec}' in section '${proxy.kind}'`;
  for (let cur = 2; cur < args.length; ) {
    const word = args[cur];
    const def = findBindOption(word);
    if (def) {
      const err = def.parse({ ...ctx, bind: binds, cur });
      if (err !== undefined) {
        report.alert(`${where} : ${err}`);
        return;
      }
      cur += 1 + def.args;
      continue;
    }
    const skip = BIND_UNSUPPORTED[word];
    if (skip !== undefined) {
      report.alert(`${where} : ${notSupportedYet(`'${word}'`)}`);
      cur += 1 + skip;
      continue;
    }
    const best = suggest(word, [...registeredNames('bind'), ...Object.keys(BIND_UNSUPPORTED)]);
    report.alert(`${where}: unknown keyword '${word}'${best ? `; did you mean '${best}' maybe ?` : '.'}`);
    return;
  }
  // A bind in a backend was already reported as ignored; it must not create a listener.
  if (proxy.fe) proxy.binds.push(...binds);
}

registerProxyKeywords([{ name: 'bind', cap: 'fe', inDefaults: false, parse: parseBind }]);
