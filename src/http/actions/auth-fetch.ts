// The HTTP authentication sample fetches (http_fetch.c): http_auth(<userlist>),
// http_auth_group(<userlist>), http_auth_type, http_auth_user, http_auth_pass and
// http_auth_bearer([<header>]).
//
// Userlists are sections of their own that may come after the proxies using them, so the fetch
// records a reference when compiled and the configuration binds it once everything is read
// (takeUserlistRefs + resolveUserlistRefs), as HAProxy resolves ARGT_USR arguments.
//
// `http_auth_group(L)` yields the user name as a sample; in an ACL it yields each group of the
// user in turn, so that `acl admins http_auth_group(L) admins ops` matches users of either group
// (HAProxy's pat_match_auth) with the ordinary string matcher.

import { ArgCheckError, ArgT, SmpF, SmpOpt, SmpT, registerFetch, type Sample, type SampleCtx } from '../../acl/index.js';
import { headerGet } from '../../htx/index.js';
import type { Userlist } from './userlist.js';

/** A use of a userlist by name, bound once userlists are known. */
export interface UserlistRef {
  readonly name: string;
  readonly kw: string;
  readonly fromAcl: boolean;
  readonly file: string;
  readonly line: number;
  list: Userlist | null;
}

let pending: UserlistRef[] = [];

/** The references compiled since the last call (and forgets them). */
export function takeUserlistRefs(): UserlistRef[] {
  const r = pending;
  pending = [];
  return r;
}

/** Position in the pending references, for takeUserlistRefsSince. */
export function markUserlistRefs(): number {
  return pending.length;
}

/** The references compiled since `mark` (and forgets them): those of one rule. */
export function takeUserlistRefsSince(mark: number): UserlistRef[] {
  return pending.splice(mark);
}

/** One unresolved reference, with HAProxy's text (to print after "parsing [file:line]: "). */
export interface UserlistRefError {
  file: string;
  line: number;
  message: string;
}

/**
 * Binds references to the userlists by name. `proxy` is the proxy whose rules hold them and
 * `where` the context word HAProxy prints for plain expressions ("in http-request expression in").
 */
export function resolveUserlistRefs(refs: readonly UserlistRef[], lists: ReadonlyMap<string, Userlist>, proxy: string, where = 'in'): UserlistRefError[] {
  const errors: UserlistRefError[] = [];
  for (const r of refs) {
    const tail = `arg 1 of ${r.fromAcl ? 'ACL keyword' : 'sample fetch keyword'} '${r.kw}' ${r.fromAcl ? 'in' : where} proxy '${proxy}'.`;
    if (r.name === '') {
      errors.push({ file: r.file, line: r.line, message: `missing userlist name in ${tail}` });
      continue;
    }
    const l = lists.get(r.name);
    if (l === undefined) {
      errors.push({ file: r.file, line: r.line, message: `unable to find userlist '${r.name}' referenced in ${tail}` });
      continue;
    }
    r.list = l;
  }
  return errors;
}

/** Credentials of the request, parsed as HAProxy's get_http_auth does. */
interface Creds {
  method: 'basic' | 'bearer' | '';
  user: string;
  pass: string;
  data: string;
}

const NO_CREDS: Creds = { method: '', user: '', pass: '', data: '' };

function isB64(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
}

/** Strict base64 (HAProxy's base64dec): length a multiple of 4, padding only at the end. */
function base64Strict(s: string): string | null {
  if (s.length % 4 !== 0) return null;
  let pad = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 61) {
      pad++;
      if (pad > 2 || i < s.length - 2) return null;
    } else if (pad > 0 || !isB64(c)) {
      return null;
    }
  }
  return Buffer.from(s, 'base64').toString('latin1');
}

/** Does `word` (compared on its own length, case-insensitively) start `scheme`? HAProxy's strncasecmp. */
function schemeIs(word: string, scheme: string): boolean {
  return word.length <= scheme.length && scheme.slice(0, word.length).toLowerCase() === word.toLowerCase();
}

function credentials(ctx: SampleCtx): Creds {
  const req = ctx.req;
  if (req === null) return NO_CREDS;
  const proxyMode = (ctx as { useProxyAuth?: boolean }).useProxyAuth === true;
  let v = headerGet(req.headers, proxyMode ? 'proxy-authorization' : 'authorization');
  if (v === undefined) return NO_CREDS;
  // The first comma-delimited value, as a non-full header lookup gives.
  const comma = v.indexOf(',');
  v = (comma < 0 ? v : v.slice(0, comma)).trim();
  const sp = v.indexOf(' ');
  if (sp <= 0) return NO_CREDS;
  const method = v.slice(0, sp);
  let i = sp;
  while (v.charCodeAt(i) === 32) i++;
  const data = v.slice(i);
  if (schemeIs(method, 'Basic')) {
    const dec = base64Strict(data);
    if (dec === null) return NO_CREDS;
    const colon = dec.indexOf(':');
    if (colon < 0) return NO_CREDS;
    return { method: 'basic', user: dec.slice(0, colon), pass: dec.slice(colon + 1), data };
  }
  if (schemeIs(method, 'Bearer')) return { method: 'bearer', user: '', pass: '', data };
  return NO_CREDS;
}

interface UlP {
  ref: UserlistRef;
  /** Groups of the current user while an ACL iterates over them. */
  iter: readonly string[];
}

function prepareUserlist(kw: string) {
  return (args: unknown[], cc: { file: string; line: number; fromAcl: boolean }): UlP => {
    const name = (args[0] as string | undefined) ?? '';
    if (typeof name !== 'string') throw new ArgCheckError('unexpected argument type');
    const ref: UserlistRef = { name, kw, fromAcl: cc.fromAcl, file: cc.file, line: cc.line, list: null };
    pending.push(ref);
    return { ref, iter: [] };
  };
}

registerFetch<UlP>({
  name: 'http_auth',
  args: { min: 1, types: [ArgT.Str] },
  outType: SmpT.Bool,
  prepare: prepareUserlist('http_auth'),
  fetch(ctx, p, smp) {
    const list = p.ref.list;
    if (list === null) return false;
    const c = credentials(ctx);
    if (c.method !== 'basic') return false;
    smp.setBool(list.checkUser(c.user, c.pass));
    return true;
  },
});

registerFetch<UlP>({
  name: 'http_auth_group',
  args: { min: 1, types: [ArgT.Str] },
  outType: SmpT.Str,
  prepare: prepareUserlist('http_auth_group'),
  fetch(ctx, p, smp: Sample, opt) {
    const list = p.ref.list;
    if (list === null) return false;
    if (!(opt & SmpOpt.Iterate)) {
      const c = credentials(ctx);
      if (c.method !== 'basic' || !list.checkUser(c.user, c.pass)) return false;
      smp.setStr(c.user);
      return true;
    }
    if (!(smp.flags & SmpF.NotLast)) {
      const c = credentials(ctx);
      if (c.method !== 'basic' || !list.checkUser(c.user, c.pass)) return false;
      p.iter = list.groupsOf(c.user);
      smp.c0 = 0;
    }
    if (smp.c0 >= p.iter.length) {
      smp.flags &= ~SmpF.NotLast;
      return false;
    }
    smp.setStr(p.iter[smp.c0++]!);
    if (smp.c0 < p.iter.length) smp.flags |= SmpF.NotLast;
    else smp.flags &= ~SmpF.NotLast;
    return true;
  },
});

registerFetch<null>({
  name: 'http_auth_type',
  args: { min: 0, types: [] },
  outType: SmpT.Str,
  prepare: () => null,
  fetch(ctx, _p, smp) {
    const c = credentials(ctx);
    if (c.method === '') return false;
    smp.setStr(c.method === 'basic' ? 'Basic' : 'Bearer');
    return true;
  },
});

for (const [name, field] of [
  ['http_auth_user', 'user'],
  ['http_auth_pass', 'pass'],
] as const) {
  registerFetch<null>({
    name,
    args: { min: 0, types: [] },
    outType: SmpT.Str,
    prepare: () => null,
    fetch(ctx, _p, smp) {
      const c = credentials(ctx);
      if (c.method !== 'basic') return false;
      smp.setStr(c[field]);
      return true;
    },
  });
}

registerFetch<string | null>({
  name: 'http_auth_bearer',
  args: { min: 0, types: [ArgT.Str] },
  outType: SmpT.Str,
  prepare: (args) => (args.length > 0 ? (args[0] as string).toLowerCase() : null),
  fetch(ctx, hdr, smp) {
    if (hdr === null) {
      const c = credentials(ctx);
      if (c.method !== 'bearer') return false;
      smp.setStr(c.data);
      return true;
    }
    // With a header name, the value is read from that header, scheme checked in full.
    const v = ctx.req === null ? undefined : headerGet(ctx.req.headers, hdr);
    let value = '';
    if (v !== undefined) {
      const sp = v.indexOf(' ');
      const type = sp < 0 ? v : v.slice(0, sp);
      let i = sp < 0 ? v.length : sp;
      while (v.charCodeAt(i) === 32) i++;
      const rest = v.slice(i);
      if (type.toLowerCase() === 'bearer' && rest.length > 0) value = rest;
    }
    smp.setStr(value);
    return true;
  },
});
