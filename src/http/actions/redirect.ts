// `redirect location|prefix|scheme <fmt> [code N] [drop-query] [append-slash] [ignore-empty]
// [set-cookie NAME[=VALUE]] [clear-cookie NAME[=]] [if|unless COND]` (http_rules.c
// http_parse_redirect_rule, http_ana.c http_apply_redirect_rule). The action parses its own
// condition, so condition errors read "error in condition: ...".

import type { Condition } from '../../acl/index.js';
import { atol } from '../../config/units.js';
import { BodyKind, headerGet } from '../../htx/index.js';
import type { RuleString } from './lf.js';
import { isCondWord, type ActionParser } from './parse.js';
import { HttpReply } from './reply.js';
import { toBytes } from './text.js';
import { pathStart } from './uri.js';
import { CONTINUE, VerdictKind, type AnswerVerdict, type RuleContext, type Verdict } from './types.js';

const enum Type {
  None,
  Location,
  Prefix,
  Scheme,
}

const REASONS: Record<number, string> = {
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
};

const EMPTY = Buffer.alloc(0);

/** First comma-delimited value of Host, trimmed (http_find_header with full=0), or "". */
function firstHost(ctx: RuleContext): string {
  const v = ctx.req === null ? undefined : headerGet(ctx.req.headers, 'host');
  if (v === undefined) return '';
  const c = v.indexOf(',');
  return (c < 0 ? v : v.slice(0, c)).trim();
}

/** The path and query of the request, "/" when it has none, cut at '?' with drop-query. */
function pathOf(ctx: RuleContext, dropQuery: boolean): string {
  const uri = ctx.req === null ? '' : ctx.req.uri;
  const s = pathStart(uri);
  if (s < 0) return '/';
  const q = dropQuery ? uri.indexOf('?', s) : -1;
  return q < 0 ? uri.slice(s) : uri.slice(s, q);
}

export const parseRedirect: ActionParser = (p) => {
  let type = Type.None;
  let code = 302;
  let destination = '';
  let cookie: string | null = null;
  let cookieSet = false;
  let dropQuery = false;
  let appendSlash = false;
  let ignoreEmpty = false;
  let cond: Condition | null = null;
  let cur = p.start;
  const value = (): string => {
    if (p.arg(cur + 1) === '') throw new Error(`missing argument for '${p.arg(cur)}'`);
    return p.arg(++cur);
  };
  for (; p.arg(cur) !== ''; cur++) {
    const w = p.arg(cur);
    if (w === 'location') {
      destination = value();
      type = Type.Location;
    } else if (w === 'prefix') {
      destination = value();
      type = Type.Prefix;
    } else if (w === 'scheme') {
      destination = value();
      type = Type.Scheme;
    } else if (w === 'set-cookie' || w === 'clear-cookie') {
      cookie = value();
      cookieSet = w === 'set-cookie';
    } else if (w === 'code') {
      const v = value();
      code = atol(v);
      if (code < 301 || code > 308 || (code > 303 && code < 307)) {
        throw new Error(`'code': unsupported HTTP code '${v}' (must be one of 301, 302, 303, 307 or 308)`);
      }
    } else if (w === 'drop-query') {
      dropQuery = true;
    } else if (w === 'append-slash') {
      appendSlash = true;
    } else if (w === 'ignore-empty') {
      ignoreEmpty = true;
    } else if (isCondWord(w)) {
      try {
        cond = p.cond(cur);
      } catch (e) {
        throw new Error(`error in condition: ${(e as Error).message}`);
      }
      break;
    } else {
      throw new Error(
        "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' " +
          `(was '${w}')`,
      );
    }
  }
  if (type === Type.None) throw new Error("redirection type expected ('prefix', 'location', or 'scheme')");
  if (p.dir !== 'request' && type !== Type.Location) throw new Error("response only supports redirect type 'location'");
  // "prefix /" adds nothing, so that a rule can redirect to the same path on another host.
  const fmt: RuleString | null = type === Type.Prefix && destination === '/' ? null : p.lf(destination);
  const setCookie = cookie === null ? null : toBytes(cookie) + (cookieSet ? '; path=/;' : '; path=/; Max-Age=0;');
  const reason = REASONS[code]!;
  const noCache = code === 302 || code === 303 || code === 307;
  let end = cur;
  while (p.arg(end) !== '') end++;

  const run = (ctx: RuleContext): Verdict => {
    let location: string;
    if (type === Type.Location) {
      location = fmt!.render(ctx);
      if (location.length === 0 && ignoreEmpty) return CONTINUE;
    } else {
      const path = pathOf(ctx, dropQuery);
      location = type === Type.Scheme ? fmt!.render(ctx) + '://' + firstHost(ctx) + path : (fmt === null ? '' : fmt.render(ctx)) + path;
      if (appendSlash && location.length > 0 && location.charCodeAt(location.length - 1) !== 47) location += '/';
    }
    const headers = ['content-length', '0', 'location', location];
    if (noCache) headers.push('cache-control', 'no-cache');
    if (setCookie !== null) headers.push('set-cookie', setCookie);
    // A request body still on its way cannot be told apart from a next request: close.
    const req = ctx.req;
    const close = req !== null && req.bodyKind !== BodyKind.None && !(req.bodyKind === BodyKind.Length && req.contentLength === 0) && !ctx.reqComplete;
    const v: AnswerVerdict = {
      kind: VerdictKind.Answer,
      status: code,
      reply: new HttpReply(code, reason, 11, headers, EMPTY, false, false),
      cause: 'L',
      close,
      denied: false,
    };
    return v;
  };
  return { next: end, final: !ignoreEmpty, cond, run };
};
