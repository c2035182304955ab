// Actions that answer in place of the server: return, deny, tarpit and auth (http_act.c
// parse_http_return, parse_http_deny, http_action_auth). Their replies are built at compile time
// when nothing in them depends on the request, so that a matching request gets a shared verdict.

import { errorReply, parseReply, withHeader, type HttpReply, type ReplyTemplate } from './reply.js';
import { endsArgs, type ActionParser } from './parse.js';
import { toBytes } from './text.js';
import { VerdictKind, type AnswerVerdict, type RuleContext, type TarpitVerdict, type Verdict } from './types.js';

function answer(status: number, reply: HttpReply, cause: 'L' | 'P', denied: boolean, errmsg = false): AnswerVerdict {
  // A reply delimited by the close, or an empty errorfile (nothing sent), ends the connection.
  return { kind: VerdictKind.Answer, status, reply, cause, close: reply.unframed || reply.silent, denied, errmsg };
}

/** A verdict built once when the reply is constant, per request otherwise. */
function answerer(t: ReplyTemplate, cause: 'L' | 'P', denied: boolean): (ctx: RuleContext) => Verdict {
  if (t.constant !== null) {
    const v = answer(t.status, t.constant, cause, denied, t.errmsg);
    return () => v;
  }
  return (ctx) => answer(t.status, buildReply(t, ctx), cause, denied, t.errmsg);
}

/** A dynamic reply, built as HAProxy builds it: after the server's response was dropped. */
function buildReply(t: ReplyTemplate, ctx: RuleContext): HttpReply {
  return ctx.withoutResponse !== undefined ? ctx.withoutResponse(() => t.build(ctx)) : t.build(ctx);
}

/** `return [status N] [content-type T] [string S|file F|lf-string F|lf-file F|errorfile F|default-errorfiles] [hdr N V]*`. */
export const parseReturn: ActionParser = (p) => {
  const { reply, next } = parseReply(p.words, p.start, 200, p.replyEnv());
  return { next, final: true, run: answerer(reply, 'L', false) };
};

/**
 * `deny` and `tarpit`: without arguments, or with only `deny_status N`, the proxy's error
 * message (default 403, tarpit 500, 502 for responses); otherwise a full reply where
 * `deny_status` is a synonym of `status`.
 */
export const parseDeny: ActionParser = (p) => {
  const tarpit = p.action === 'tarpit';
  const defaultStatus = p.dir === 'request' ? (tarpit ? 500 : 403) : 502;
  const env = p.replyEnv();
  let parsed: { reply: ReplyTemplate; next: number };
  if (endsArgs(p, p.start)) {
    parsed = { reply: parseReply(['default-errorfiles'], 0, defaultStatus, env).reply, next: p.start };
  } else if (p.arg(p.start) === 'deny_status' && endsArgs(p, p.start + 2)) {
    const legacy = ['status', p.arg(p.start + 1), 'default-errorfiles'];
    parsed = { reply: parseReply(legacy, 0, defaultStatus, env).reply, next: p.start + 2 };
  } else {
    const words = p.words.slice();
    if (words[p.start] === 'deny_status') words[p.start] = 'status';
    parsed = parseReply(words, p.start, defaultStatus, env);
  }
  const { reply, next } = parsed;
  if (tarpit) {
    const constant: TarpitVerdict | null = reply.constant === null ? null : { kind: VerdictKind.Tarpit, status: reply.status, reply: reply.constant, errmsg: reply.errmsg };
    return {
      next,
      final: true,
      run: constant !== null ? () => constant : (ctx) => ({ kind: VerdictKind.Tarpit, status: reply.status, reply: buildReply(reply, ctx) }),
    };
  }
  return { next, final: true, run: answerer(reply, 'P', true) };
};

/** `auth [realm R]`: 401 with WWW-Authenticate, or 407 with Proxy-Authenticate in proxy mode. */
export const parseAuth: ActionParser = (p) => {
  let cur = p.start;
  let realm = p.where.proxyName ?? '';
  if (p.arg(cur) === 'realm') {
    cur++;
    // HAProxy's message carries a newline before the final period.
    if (p.arg(cur) === '') throw new Error('missing realm value.\n');
    realm = p.arg(cur);
    cur++;
  }
  const challenge = 'Basic realm="' + toBytes(realm) + '"';
  const www = answer(401, withHeader(errorReply(401, p.where.errorfiles), 'www-authenticate', challenge), 'L', false);
  const proxy = answer(407, withHeader(errorReply(407, p.where.errorfiles), 'proxy-authenticate', challenge), 'L', false);
  return {
    next: cur,
    final: true,
    run: (ctx) => (ctx.useProxyAuth ? proxy : www),
  };
};
