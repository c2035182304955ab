// HTTP sample fetches and their ACL keywords (HAProxy's http_fetch.c and http_acl.c).
//
// Header fetches: in an ACL every value is tried (comma-separated values apart, `fhdr` keeps
// whole lines); as a sample, `hdr(name)` is the last value and `hdr(name,n)` the n-th (negative
// counts from the end). `hdr` and `cookie` follow the direction of the rule; `req.*` and `res.*`
// are fixed. The Host header is returned as received, port included.

import { htxRequestData, type HtxHeaders, type HtxRequest } from '../htx/index.js';
import { parseIpv4Strict, parseIpv6 } from './addr.js';
import { ArgT, NO_ARGS, type ArgSpec, type ArgValue } from './args.js';
import { extractCookie, hdrCount, hdrGetOcc, hdrWalkNext, hdrWalkReset, MAX_HDR_HISTORY, nextUrlParam } from './hdrs.js';
import { ArgCheckError, PatMatch, registerAclKeyword, registerFetch } from './registry.js';
import { Meth, methId, type Sample, SmpF, SmpOpt, SmpT, strictInt, strl2ic } from './sample.js';
import type { SampleCtx } from './types.js';

/** Which message a fetch reads: fixed, or the one of the rule's direction ("channel"). */
const enum Dir {
  Req = 0,
  Res = 1,
  Chan = 2,
}

function headersOf(ctx: SampleCtx, dir: Dir, opt: number): HtxHeaders | null {
  const res = dir === Dir.Res || (dir === Dir.Chan && (opt & SmpOpt.DirRes) !== 0);
  if (res) return ctx.res ? ctx.res.headers : null;
  return ctx.req ? ctx.req.headers : null;
}

interface HdrP {
  /** Lower-case name, "" for any header, null when no argument was given (no sample). */
  name: string | null;
  occ: number;
}

const HDR_ARGS: ArgSpec = { min: 0, types: [ArgT.Str, ArgT.Sint] };
const NAME_ARG: ArgSpec = { min: 0, types: [ArgT.Str] };

function prepareHdr(args: ArgValue[]): HdrP {
  const occ = (args[1] as number | undefined) ?? 0;
  if (occ < -MAX_HDR_HISTORY) throw new ArgCheckError(`header occurrence must be >= ${-MAX_HDR_HISTORY}`);
  return { name: args.length > 0 ? (args[0] as string).toLowerCase() : null, occ };
}

function prepareName(args: ArgValue[]): string | null {
  return args.length > 0 ? (args[0] as string).toLowerCase() : null;
}

/** smp_fetch_hdr / smp_fetch_fhdr. */
function fetchHdr(ctx: SampleCtx, p: HdrP, smp: Sample, opt: number, dir: Dir, full: boolean): boolean {
  const h = headersOf(ctx, dir, opt);
  if (p.name === null || h === null) return false;
  if (!(smp.flags & SmpF.NotLast)) hdrWalkReset(smp);
  let occ = p.occ;
  // A sample without explicit occurrence is the last value; an ACL iterates over all of them.
  if (occ === 0 && !(opt & SmpOpt.Iterate)) occ = -1;
  if (occ === 0) smp.flags |= SmpF.NotLast;
  if (hdrGetOcc(h, p.name, occ, full, smp)) {
    smp.type = SmpT.Str;
    smp.str = h[smp.c0 + 1]!.slice(smp.vs, smp.ve);
    return true;
  }
  smp.flags &= ~SmpF.NotLast;
  return false;
}

/** Address in a header value: IPv4 (optionally ":port") or IPv6 (smp_fetch_hdr_ip). */
function hdrToIp(smp: Sample): boolean {
  const v = smp.str;
  let i = 0;
  while (i < v.length) {
    const c = v.charCodeAt(i);
    if ((c < 48 || c > 57) && c !== 46) break;
    i++;
  }
  const v4 = parseIpv4Strict(v.slice(0, i), true);
  if (v4 >= 0) {
    const port = i < v.length && v.charCodeAt(i) === 58 ? strictInt(v.slice(i + 1)) : NaN;
    if (i === v.length || (port >= 0 && port <= 65535)) {
      smp.type = SmpT.Ipv4;
      smp.num = v4;
      return true;
    }
  }
  if (parseIpv6(v, smp.ip6)) {
    smp.type = SmpT.Ipv6;
    return true;
  }
  return false;
}

interface CookP {
  name: string;
}

/** smp_fetch_cookie: every matching cookie in an ACL, else the last one (the first if unnamed). */
function fetchCookie(ctx: SampleCtx, p: CookP, smp: Sample, opt: number, dir: Dir): boolean {
  const isRes = dir === Dir.Res || (dir === Dir.Chan && (opt & SmpOpt.DirRes) !== 0);
  const h = isRes ? ctx.res?.headers : ctx.req?.headers;
  if (!h) return false;
  const hname = isRes ? 'set-cookie' : 'cookie';
  // Several cookies per header are parsed when the rule runs on the request, as in HAProxy.
  const list = (opt & SmpOpt.DirRes) === 0;
  const name = p.name;
  if (!(smp.flags & SmpF.NotLast)) {
    smp.c2 = -1;
    hdrWalkReset(smp);
  }
  let found = false;
  for (;;) {
    if (smp.c2 < 0) {
      if (!hdrWalkNext(h, hname, false, smp)) break;
      if (smp.ve - smp.vs < name.length + 1) continue;
      smp.c2 = smp.vs;
      smp.c3 = smp.ve;
    }
    const v = h[smp.c0 + 1]!;
    smp.c2 = extractCookie(v, smp.c2, smp.c3, name, list, smp);
    if (smp.c2 >= 0) {
      found = true;
      smp.type = SmpT.Str;
      smp.str = v.slice(smp.vs, smp.ve);
      if (opt & SmpOpt.Iterate) {
        smp.flags |= SmpF.NotLast;
        return true;
      }
      if (name.length === 0) break;
    }
  }
  smp.flags &= ~SmpF.NotLast;
  return found;
}

function countCookies(ctx: SampleCtx, p: CookP, smp: Sample, opt: number, dir: Dir): boolean {
  const isRes = dir === Dir.Res || (dir === Dir.Chan && (opt & SmpOpt.DirRes) !== 0);
  const h = isRes ? ctx.res?.headers : ctx.req?.headers;
  if (!h) return false;
  const list = (opt & SmpOpt.DirRes) === 0;
  const hname = isRes ? 'set-cookie' : 'cookie';
  let n = 0;
  hdrWalkReset(smp);
  while (hdrWalkNext(h, hname, false, smp)) {
    if (smp.ve - smp.vs < p.name.length + 1) continue;
    const v = h[smp.c0 + 1]!;
    let pos = smp.vs;
    const end = smp.ve;
    while ((pos = extractCookie(v, pos, end, p.name, list, smp)) >= 0) n++;
  }
  smp.setInt(n);
  return true;
}

interface UrlpP {
  name: string;
  delim: number;
}

/** smp_fetch_url_param: values of a query-string parameter, every one of them in an ACL. */
function fetchUrlParam(ctx: SampleCtx, p: UrlpP, smp: Sample): boolean {
  const req = ctx.req;
  if (!req) return false;
  const u = req.uri;
  if (!(smp.flags & SmpF.NotLast)) {
    const q = u.indexOf(String.fromCharCode(p.delim));
    if (q < 0) return false;
    smp.c0 = q + 1;
  }
  if (!nextUrlParam(u, smp.c0, p.name, p.delim, smp)) {
    smp.flags &= ~SmpF.NotLast;
    return false;
  }
  smp.type = SmpT.Str;
  smp.str = u.slice(smp.vs, smp.ve);
  smp.c0 = smp.ve;
  if (smp.c0 < u.length) smp.flags |= SmpF.NotLast;
  else smp.flags &= ~SmpF.NotLast;
  return true;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Where the path starts in a request target, -1 if it has none (http_parse_path). */
export function pathStart(u: string): number {
  if (u.length === 0) return -1;
  const c0 = u.charCodeAt(0);
  if (c0 === 47) return 0;
  if (c0 === 42 || !isAlpha(c0)) return -1;
  // absolute-form: scheme "://" authority [path]; anything else is an authority (CONNECT).
  let i = 1;
  while (i < u.length) {
    const c = u.charCodeAt(i);
    if (!(isAlpha(c) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)) break;
    i++;
  }
  if (!u.startsWith('://', i)) return -1;
  const slash = u.indexOf('/', i + 3);
  return slash;
}

function fetchPath(req: HtxRequest | null, smp: Sample, withQuery: boolean): boolean {
  if (!req) return false;
  const u = req.uri;
  const ps = pathStart(u);
  if (ps < 0) return false;
  let end = u.length;
  if (!withQuery) {
    const q = u.indexOf('?', ps);
    if (q >= 0) end = q;
  }
  smp.setStr(ps === 0 && end === u.length ? u : u.slice(ps, end));
  return true;
}

/** smp_fetch_base: first Host value followed by the path (and query for baseq). */
function fetchBase(ctx: SampleCtx, smp: Sample, withQuery: boolean): boolean {
  const req = ctx.req;
  if (!req) return false;
  const h = req.headers;
  hdrWalkReset(smp);
  if (!hdrWalkNext(h, 'host', false, smp) || smp.ve === smp.vs) return fetchPath(req, smp, withQuery);
  const host = h[smp.c0 + 1]!.slice(smp.vs, smp.ve);
  const u = req.uri;
  const ps = pathStart(u);
  if (ps < 0) {
    smp.setStr(host);
    return true;
  }
  let end = u.length;
  if (!withQuery) {
    const q = u.indexOf('?', ps);
    if (q >= 0) end = q;
  }
  smp.setStr(end > ps && u.charCodeAt(ps) === 47 ? host + u.slice(ps, end) : host);
  return true;
}

function versionText(v: number): string {
  return `${Math.floor(v / 10)}.${v % 10}`;
}

const chanHdr = (name: string, dir: Dir): void => {
  registerFetch<HdrP>({
    name,
    args: HDR_ARGS,
    outType: SmpT.Str,
    prepare: prepareHdr,
    fetch: (ctx, p, smp, opt) => fetchHdr(ctx, p, smp, opt, dir, false),
  });
};

function registerHeaderFetches(prefix: string, dir: Dir): void {
  registerFetch<HdrP>({
    name: `${prefix}.fhdr`,
    args: HDR_ARGS,
    outType: SmpT.Str,
    prepare: prepareHdr,
    fetch: (ctx, p, smp, opt) => fetchHdr(ctx, p, smp, opt, dir, true),
  });
  registerFetch<string | null>({
    name: `${prefix}.fhdr_cnt`,
    args: NAME_ARG,
    outType: SmpT.Sint,
    prepare: prepareName,
    fetch: (ctx, name, smp, opt) => {
      const h = headersOf(ctx, dir, opt);
      if (!h) return false;
      smp.setInt(hdrCount(h, name ?? '', true, smp));
      return true;
    },
  });
  registerFetch<string>({
    name: `${prefix}.hdr_names`,
    args: NAME_ARG,
    outType: SmpT.Str,
    prepare: (args) => ((args[0] as string | undefined) ?? ',').slice(0, 1),
    fetch: (ctx, del, smp, opt) => {
      const h = headersOf(ctx, dir, opt);
      if (!h) return false;
      // HAProxy stores header names in lower case, so that is what it lists.
      let s = '';
      for (let i = 0; i < h.length; i += 2) s += (i === 0 ? '' : del) + h[i]!.toLowerCase();
      smp.setStr(s);
      return true;
    },
  });
}

/** hdr, hdr_cnt, hdr_val, hdr_ip with a prefix; `hdr` alone may follow the rule's direction. */
function registerHdrFamily(base: string, dir: Dir, hdrDir: Dir = dir): void {
  chanHdr(`${base}hdr`, hdrDir);
  registerFetch<string | null>({
    name: `${base}hdr_cnt`,
    args: NAME_ARG,
    outType: SmpT.Sint,
    prepare: prepareName,
    fetch: (ctx, name, smp, opt) => {
      const h = headersOf(ctx, dir, opt);
      if (!h) return false;
      smp.setInt(hdrCount(h, name ?? '', false, smp));
      return true;
    },
  });
  registerFetch<HdrP>({
    name: `${base}hdr_val`,
    args: HDR_ARGS,
    outType: SmpT.Sint,
    prepare: prepareHdr,
    fetch: (ctx, p, smp, opt) => {
      if (!fetchHdr(ctx, p, smp, opt, dir, false)) return false;
      smp.setInt(strl2ic(smp.str, 0, smp.str.length));
      return true;
    },
  });
  registerFetch<HdrP>({
    name: `${base}hdr_ip`,
    args: HDR_ARGS,
    outType: SmpT.Ipv4,
    prepare: prepareHdr,
    fetch: (ctx, p, smp, opt) => {
      while (fetchHdr(ctx, p, smp, opt, dir, false)) {
        if (hdrToIp(smp)) return true;
        if (!(smp.flags & SmpF.NotLast)) return false;
      }
      return false;
    },
  });
}

function registerCookieFamily(name: string, dir: Dir): void {
  const prepare = (args: ArgValue[]): CookP => ({ name: (args[0] as string | undefined) ?? '' });
  registerFetch<CookP>({
    name,
    args: NAME_ARG,
    outType: SmpT.Str,
    prepare,
    fetch: (ctx, p, smp, opt) => fetchCookie(ctx, p, smp, opt, dir),
  });
  if (name === 'cookie') return;
  registerFetch<CookP>({
    name: `${name}_cnt`,
    args: NAME_ARG,
    outType: SmpT.Sint,
    prepare,
    fetch: (ctx, p, smp, opt) => countCookies(ctx, p, smp, opt, dir),
  });
  registerFetch<CookP>({
    name: `${name}_val`,
    args: NAME_ARG,
    outType: SmpT.Sint,
    prepare,
    fetch: (ctx, p, smp, opt) => {
      if (!fetchCookie(ctx, p, smp, opt, dir)) return false;
      smp.setInt(strl2ic(smp.str, 0, smp.str.length));
      return true;
    },
  });
}

function registerSimple(name: string, outType: SmpT, fetch: (ctx: SampleCtx, smp: Sample, opt: number) => boolean): void {
  registerFetch<null>({ name, args: NO_ARGS, outType, prepare: () => null, fetch: (ctx, _p, smp, opt) => fetch(ctx, smp, opt) });
}

registerHdrFamily('', Dir.Req, Dir.Chan);
registerHdrFamily('req.', Dir.Req);
registerHdrFamily('res.', Dir.Res);
registerHdrFamily('s', Dir.Res);
registerHeaderFetches('req', Dir.Req);
registerHeaderFetches('res', Dir.Res);
registerCookieFamily('cook', Dir.Req);
registerCookieFamily('req.cook', Dir.Req);
registerCookieFamily('res.cook', Dir.Res);
registerCookieFamily('scook', Dir.Res);
registerCookieFamily('cookie', Dir.Chan);

registerSimple('method', SmpT.Meth, (ctx, smp, opt) => {
  const req = ctx.req;
  if (!req) return false;
  const id = methId(req.method);
  if (id === Meth.Other && opt & SmpOpt.DirRes) return false;
  smp.type = SmpT.Meth;
  smp.num = id;
  smp.str = req.method;
  return true;
});
registerSimple('path', SmpT.Str, (ctx, smp) => fetchPath(ctx.req, smp, false));
registerSimple('pathq', SmpT.Str, (ctx, smp) => fetchPath(ctx.req, smp, true));
registerSimple('base', SmpT.Str, (ctx, smp) => fetchBase(ctx, smp, false));
registerSimple('baseq', SmpT.Str, (ctx, smp) => fetchBase(ctx, smp, true));
registerSimple('url', SmpT.Str, (ctx, smp) => {
  if (!ctx.req) return false;
  smp.setStr(ctx.req.uri);
  return true;
});
registerSimple('query', SmpT.Str, (ctx, smp) => {
  if (!ctx.req) return false;
  const u = ctx.req.uri;
  const q = u.indexOf('?');
  if (q < 0) return false;
  smp.setStr(u.slice(q + 1));
  return true;
});
for (const name of ['req.ver', 'req_ver']) {
  registerSimple(name, SmpT.Str, (ctx, smp) => {
    if (!ctx.req) return false;
    smp.setStr(versionText(ctx.req.version));
    return true;
  });
}
for (const name of ['res.ver', 'resp_ver']) {
  registerSimple(name, SmpT.Str, (ctx, smp) => {
    if (!ctx.res) return false;
    smp.setStr(versionText(ctx.res.version));
    return true;
  });
}
registerSimple('status', SmpT.Sint, (ctx, smp) => {
  const st = ctx.res ? ctx.res.status : ctx.status;
  if (st <= 0) return false;
  smp.setInt(st);
  return true;
});
for (const name of ['req.proto_http', 'req_proto_http']) {
  registerSimple(name, SmpT.Bool, (ctx, smp, opt) => {
    // HAProxy reads the request message for it, which a response rule no longer has.
    if (!ctx.req || opt & SmpOpt.DirRes) return false;
    smp.setBool(true);
    return true;
  });
}
for (const name of ['req.len', 'req_len']) {
  registerSimple(name, SmpT.Sint, (ctx, smp) => {
    // What HAProxy's buffer holds of the request: the payloads of its blocks.
    smp.setInt(ctx.req ? htxRequestData(ctx.req) + ctx.reqBodyBytes : ctx.reqBodyBytes);
    smp.flags |= SmpF.MayChange;
    return true;
  });
}
registerSimple('req.body_len', SmpT.Sint, (ctx, smp) => {
  if (!ctx.req) return false;
  smp.setInt(ctx.reqBodyBytes);
  return true;
});
/** A held body as a binary sample; no sample when none is held. */
function bodySample(b: string | null | undefined, smp: Sample): boolean {
  if (b === null || b === undefined) return false;
  smp.setStr(b);
  smp.type = SmpT.Bin;
  return true;
}
registerSimple('req.body', SmpT.Bin, (ctx, smp) => ctx.req !== null && bodySample(ctx.reqBody?.(), smp));
registerSimple('res.body', SmpT.Bin, (ctx, smp) => ctx.res !== null && bodySample(ctx.resBody?.(), smp));
registerSimple('res.body_len', SmpT.Sint, (ctx, smp) => {
  if (!ctx.res) return false;
  smp.setInt(ctx.resBody?.()?.length ?? 0);
  return true;
});
registerSimple('res.body_size', SmpT.Sint, (ctx, smp) => {
  const res = ctx.res;
  if (!res) return false;
  const held = ctx.resBody?.()?.length ?? 0;
  smp.setInt(res.contentLength >= 0 ? Math.max(res.contentLength, held) : held);
  return true;
});
registerSimple('req.body_size', SmpT.Sint, (ctx, smp) => {
  const req = ctx.req;
  if (!req) return false;
  // Bytes buffered plus those still announced by Content-Length.
  smp.setInt(req.contentLength >= 0 ? Math.max(req.contentLength, ctx.reqBodyBytes) : ctx.reqBodyBytes);
  return true;
});

const URLP_ARGS: ArgSpec = { min: 0, types: [ArgT.Str, ArgT.Str] };
const prepareUrlp = (args: ArgValue[]): UrlpP => ({
  name: (args[0] as string | undefined) ?? '',
  delim: args.length > 1 && (args[1] as string).length > 0 ? (args[1] as string).charCodeAt(0) : 63,
});
for (const name of ['url_param', 'urlp']) {
  registerFetch<UrlpP>({ name, args: URLP_ARGS, outType: SmpT.Str, prepare: prepareUrlp, fetch: (ctx, p, smp) => fetchUrlParam(ctx, p, smp) });
}
registerFetch<UrlpP>({
  name: 'urlp_val',
  args: URLP_ARGS,
  outType: SmpT.Sint,
  prepare: prepareUrlp,
  fetch: (ctx, p, smp) => {
    if (!fetchUrlParam(ctx, p, smp)) return false;
    smp.setInt(strl2ic(smp.str, 0, smp.str.length));
    return true;
  },
});

// ACL keywords: a fetch and an implied match method (http_acl.c).
const DERIVED: Array<[string, PatMatch]> = [
  ['', PatMatch.Str],
  ['_beg', PatMatch.Beg],
  ['_dir', PatMatch.Dir],
  ['_dom', PatMatch.Dom],
  ['_end', PatMatch.End],
  ['_len', PatMatch.Len],
  ['_reg', PatMatch.Reg],
  ['_sub', PatMatch.Sub],
];
for (const [acl, fetch] of [
  ['base', 'base'],
  ['cook', 'req.cook'],
  ['hdr', 'req.hdr'],
  ['path', 'path'],
  ['scook', 'res.cook'],
  ['shdr', 'res.hdr'],
  ['url', 'url'],
  ['urlp', 'urlp'],
] as const) {
  for (const [suffix, match] of DERIVED) registerAclKeyword({ name: acl + suffix, fetch, match });
}
registerAclKeyword({ name: 'method', fetch: 'method', match: PatMatch.Meth });
registerAclKeyword({ name: 'req_ver', fetch: 'req.ver', match: PatMatch.Str });
registerAclKeyword({ name: 'resp_ver', fetch: 'res.ver', match: PatMatch.Str });
