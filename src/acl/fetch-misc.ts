// Sample fetches that do not read the HTTP message: connection addresses and ports, TLS facts,
// proxy and server state, the environment, constants (HAProxy's tcp_sample.c, ssl_sample.c,
// backend.c, frontend.c, payload.c and sample.c).

import { hostname } from 'node:os';
import { parseIpv4Strict, parseIpv6 } from './addr.js';
import { ArgT, NO_ARGS, type ArgSpec, type ArgValue } from './args.js';
import { ArgCheckError, type CompileCtx, PatMatch, registerAclKeyword, registerFetch } from './registry.js';
import { Meth, methId, type Sample, SmpF, SmpOpt, SmpT } from './sample.js';
import type { SampleCtx } from './types.js';

/** Loads an address given as text; false if it is not an IP address (e.g. a UNIX socket). */
export function loadAddr(text: string, smp: Sample): boolean {
  if (text.indexOf(':') < 0) {
    const v = parseIpv4Strict(text, false);
    if (v < 0) return false;
    smp.type = SmpT.Ipv4;
    smp.num = v;
    return true;
  }
  const pct = text.indexOf('%');
  if (!parseIpv6(pct < 0 ? text : text.slice(0, pct), smp.ip6)) return false;
  smp.type = SmpT.Ipv6;
  return true;
}

function simple(name: string, outType: SmpT, fetch: (ctx: SampleCtx, smp: Sample, opt: number) => boolean): void {
  registerFetch<null>({ name, args: NO_ARGS, outType, prepare: () => null, fetch: (ctx, _p, smp, opt) => fetch(ctx, smp, opt) });
}

simple('src', SmpT.Ipv4, (ctx, smp) => loadAddr(ctx.srcAddr, smp));
simple('dst', SmpT.Ipv4, (ctx, smp) => loadAddr(ctx.dstAddr, smp));
simple('src_port', SmpT.Sint, (ctx, smp) => {
  smp.setInt(ctx.srcPort);
  return true;
});
simple('dst_port', SmpT.Sint, (ctx, smp) => {
  smp.setInt(ctx.dstPort);
  return true;
});
simple('ssl_fc', SmpT.Bool, (ctx, smp) => {
  smp.setBool(ctx.sslFc);
  return true;
});
simple('ssl_fc_sni', SmpT.Str, (ctx, smp) => {
  if (!ctx.sslFc || ctx.sslSni.length === 0) return false;
  smp.setStr(ctx.sslSni);
  return true;
});
registerAclKeyword({ name: 'ssl_fc_sni_end', fetch: 'ssl_fc_sni', match: PatMatch.End });
registerAclKeyword({ name: 'ssl_fc_sni_reg', fetch: 'ssl_fc_sni', match: PatMatch.Reg });
simple('fe_name', SmpT.Str, (ctx, smp) => {
  smp.setStr(ctx.feName);
  return true;
});
simple('be_name', SmpT.Str, (ctx, smp) => {
  if (ctx.beName.length === 0) return false;
  smp.setStr(ctx.beName);
  return true;
});
simple('always_true', SmpT.Bool, (_ctx, smp) => {
  smp.setBool(true);
  return true;
});
simple('always_false', SmpT.Bool, (_ctx, smp) => {
  smp.setBool(false);
  return true;
});
simple('wait_end', SmpT.Bool, (_ctx, smp, opt) => {
  if (!(opt & SmpOpt.Final)) {
    smp.flags |= SmpF.MayChange;
    return false;
  }
  smp.setBool(true);
  return true;
});
simple('hostname', SmpT.Str, (_ctx, smp) => {
  smp.setStr(HOSTNAME);
  return true;
});
const HOSTNAME = hostname();

/** Records a proxy or server named by an argument, checked once the configuration is read. */
function addRef(cc: CompileCtx, kind: 'backend' | 'server' | 'frontend', proxy: string, server: string): void {
  cc.refs.push({ kind, proxy, server, kw: cc.kw, conv: cc.conv, argPos: 0, fromAcl: cc.fromAcl, file: cc.file, line: cc.line });
}

const FE_ARG: ArgSpec = { min: 1, types: [ArgT.Fe] };
const BE_ARG: ArgSpec = { min: 1, types: [ArgT.Be] };

registerFetch<string>({
  name: 'fe_conn',
  args: FE_ARG,
  outType: SmpT.Sint,
  prepare: (args, cc) => {
    addRef(cc, 'frontend', args[0] as string, '');
    return args[0] as string;
  },
  fetch: (ctx, fe, smp) => {
    smp.setInt(ctx.feConn(fe));
    return true;
  },
});
registerFetch<string>({
  name: 'be_conn',
  args: BE_ARG,
  outType: SmpT.Sint,
  prepare: (args, cc) => {
    addRef(cc, 'backend', args[0] as string, '');
    return args[0] as string;
  },
  fetch: (ctx, be, smp) => {
    smp.setInt(ctx.beConn(be));
    return true;
  },
});
registerFetch<string>({
  name: 'nbsrv',
  args: BE_ARG,
  outType: SmpT.Sint,
  prepare: (args, cc) => {
    addRef(cc, 'backend', args[0] as string, '');
    return args[0] as string;
  },
  fetch: (ctx, be, smp) => {
    smp.setInt(ctx.nbsrv(be));
    return true;
  },
});
registerFetch<{ be: string; srv: string }>({
  name: 'srv_is_up',
  args: { min: 1, types: [ArgT.Srv] },
  outType: SmpT.Bool,
  prepare: (args, cc) => {
    // "backend/server", or "server" in the current backend.
    const s = args[0] as string;
    const slash = s.lastIndexOf('/');
    const p = slash < 0 ? { be: '', srv: s } : { be: s.slice(0, slash), srv: s.slice(slash + 1) };
    addRef(cc, 'server', p.be, p.srv);
    return p;
  },
  fetch: (ctx, p, smp) => {
    smp.setBool(ctx.srvIsUp(p.be, p.srv));
    return true;
  },
});

registerFetch<string>({
  name: 'env',
  args: { min: 1, types: [ArgT.Str] },
  outType: SmpT.Str,
  prepare: (args) => args[0] as string,
  fetch: (ctx, name, smp) => {
    const v = ctx.env(name);
    if (v === undefined) return false;
    smp.setStr(v);
    return true;
  },
});

// Constants.
registerFetch<string>({
  name: 'str',
  args: { min: 1, types: [ArgT.Str] },
  outType: SmpT.Str,
  prepare: (args) => args[0] as string,
  fetch: (_ctx, s, smp) => {
    smp.setStr(s);
    return true;
  },
});
registerFetch<number>({
  name: 'int',
  args: { min: 1, types: [ArgT.Sint] },
  outType: SmpT.Sint,
  prepare: (args) => args[0] as number,
  fetch: (_ctx, n, smp) => {
    smp.setInt(n);
    return true;
  },
});
registerFetch<boolean>({
  name: 'bool',
  args: { min: 1, types: [ArgT.Str] },
  outType: SmpT.Bool,
  prepare: (args) => {
    const s = (args[0] as string).toLowerCase();
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
    throw new ArgCheckError("Expects 'true', 'false', '0' or '1'");
  },
  fetch: (_ctx, b, smp) => {
    smp.setBool(b);
    return true;
  },
});
registerFetch<number>({
  name: 'ipv4',
  args: { min: 1, types: [ArgT.Ipv4] },
  outType: SmpT.Ipv4,
  prepare: (args) => args[0] as number,
  fetch: (_ctx, v, smp) => {
    smp.type = SmpT.Ipv4;
    smp.num = v;
    return true;
  },
});
registerFetch<Uint8Array>({
  name: 'ipv6',
  args: { min: 1, types: [ArgT.Ipv6] },
  outType: SmpT.Ipv6,
  prepare: (args) => args[0] as Uint8Array,
  fetch: (_ctx, v, smp) => {
    smp.type = SmpT.Ipv6;
    smp.ip6.set(v);
    return true;
  },
});
registerFetch<string>({
  name: 'bin',
  args: { min: 1, types: [ArgT.Str] },
  outType: SmpT.Bin,
  prepare: (args) => {
    const s = args[0] as string;
    if (s.length % 2) throw new ArgCheckError('an even number of hex digit is expected');
    if (!/^[0-9a-fA-F]*$/.test(s)) {
      const bad = /[^0-9a-fA-F]/.exec(s)!;
      throw new ArgCheckError(`an hex digit is expected (found '${bad[0]}')`);
    }
    return Buffer.from(s, 'hex').toString('latin1');
  },
  fetch: (_ctx, s, smp) => {
    smp.type = SmpT.Bin;
    smp.str = s;
    return true;
  },
});
registerFetch<{ id: Meth; text: string }>({
  name: 'meth',
  args: { min: 1, types: [ArgT.Str] },
  outType: SmpT.Meth,
  prepare: (args) => {
    const text = args[0] as string;
    const id = methId(text);
    if (id === Meth.Other && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(text)) throw new ArgCheckError('expects valid method.');
    return { id, text };
  },
  fetch: (_ctx, p, smp) => {
    smp.type = SmpT.Meth;
    smp.num = p.id;
    smp.str = p.text;
    return true;
  },
});

const DATE_UNITS: Record<string, number> = { s: 1, ms: 1000, us: 1000000 };
registerFetch<{ offset: number; unit: number }>({
  name: 'date',
  args: { min: 0, types: [ArgT.Sint, ArgT.Str] },
  outType: SmpT.Sint,
  prepare: (args: ArgValue[]) => {
    let unit = 1;
    if (args.length > 1) {
      const u = DATE_UNITS[args[1] as string];
      if (u === undefined) throw new ArgCheckError(`expects 's', 'ms' or 'us', got '${args[1] as string}'`);
      unit = u;
    }
    return { offset: (args[0] as number | undefined) ?? 0, unit };
  },
  fetch: (_ctx, p, smp) => {
    // The offset is in the unit of the result, as in HAProxy.
    smp.setInt(Math.floor((Date.now() * p.unit) / 1000) + p.offset);
    return true;
  },
});
registerFetch<number>({
  name: 'rand',
  args: { min: 0, types: [ArgT.Sint] },
  outType: SmpT.Sint,
  prepare: (args) => (args[0] as number | undefined) ?? 0,
  fetch: (_ctx, range, smp) => {
    // Without a range, a 32-bit random number; with one, 0 <= n < range.
    const r = Math.floor(Math.random() * 4294967296);
    smp.setInt(range > 0 ? Math.floor((r * range) / 4294967296) : r);
    return true;
  },
});
