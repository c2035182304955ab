// Request line actions: set-method, set-path, set-pathq, set-query, set-uri, replace-path,
// replace-pathq, replace-uri (http_act.c parse_set_req_line, parse_replace_uri).

import { htxRequestLine, type HtxRequest } from '../../htx/index.js';
import { compileRuleRegex, expandReplacement } from './regex.js';
import { endsArgs, type ActionParser } from './parse.js';
import { pathAndQuery, pathOnly, replacePath, replaceQuery, setUri } from './uri.js';
import { CONTINUE, REWRITE_ERROR, type RuleContext, type Verdict } from './types.js';

const enum Part {
  Method,
  Path,
  Query,
  Uri,
  PathQ,
}

/** Writes `value` into the part of the request line; false when the rewrite fails. */
function apply(req: HtxRequest, part: Part, value: string): boolean {
  switch (part) {
    case Part.Method:
      req.method = value;
      return true;
    case Part.Path:
      req.uri = replacePath(req.uri, value, false);
      return true;
    case Part.PathQ:
      req.uri = replacePath(req.uri, value, true);
      return true;
    case Part.Query:
      req.uri = replaceQuery(req.uri, value);
      return true;
    case Part.Uri:
      return setUri(req, value);
  }
}

/**
 * Rewrites the part of the request line, then checks that the request still fits in HAProxy's
 * buffer; when it does not, the request is left as it was and the rewrite fails.
 */
function rewrite(ctx: RuleContext, req: HtxRequest, part: Part, value: string): Verdict {
  const room = ctx.htxRoom?.(false) ?? null;
  if (room === null) return apply(req, part, value) ? CONTINUE : REWRITE_ERROR;
  const { method, uri } = req;
  const before = htxRequestLine(req);
  // set-uri may also rewrite Host.
  const headers = part === Part.Uri ? req.headers.slice() : null;
  if (!apply(req, part, value)) return REWRITE_ERROR;
  if (room.resized(before, htxRequestLine(req))) return CONTINUE;
  req.method = method;
  req.uri = uri;
  if (headers !== null) req.headers.splice(0, req.headers.length, ...headers);
  return REWRITE_ERROR;
}

function partOfSet(action: string): Part {
  switch (action) {
    case 'set-method':
      return Part.Method;
    case 'set-path':
      return Part.Path;
    case 'set-pathq':
      return Part.PathQ;
    case 'set-query':
      return Part.Query;
    default:
      return Part.Uri;
  }
}

/** `set-method|set-path|set-pathq|set-query|set-uri <fmt>`. */
export const parseSetReqLine: ActionParser = (p) => {
  const text = p.arg(p.start);
  if (text === '' || !endsArgs(p, p.start + 1)) throw new Error('expects exactly 1 argument <format>');
  const part = partOfSet(p.action);
  const fmt = p.lf(text);
  return {
    next: p.start + 1,
    run(ctx: RuleContext): Verdict {
      const req = ctx.req;
      if (req === null) return CONTINUE;
      // set-query adds the '?' that tells "empty query" from "no query".
      const v = part === Part.Query ? '?' + fmt.render(ctx) : fmt.render(ctx);
      return rewrite(ctx, req, part, v);
    },
  };
};

/** `replace-path|replace-pathq|replace-uri <match-regex> <replace-fmt>`. */
export const parseReplaceUri: ActionParser = (p) => {
  const regex = p.arg(p.start);
  const text = p.arg(p.start + 1);
  if (regex === '' || text === '' || !endsArgs(p, p.start + 2)) {
    throw new Error('expects exactly 2 arguments <match-regex> and <replace-format>');
  }
  let re: RegExp;
  try {
    re = compileRuleRegex(regex);
  } catch (e) {
    throw new Error(`failed to parse the regex : ${(e as Error).message}`);
  }
  const part = p.action === 'replace-uri' ? Part.Uri : p.action === 'replace-pathq' ? Part.PathQ : Part.Path;
  const fmt = p.lf(text);
  return {
    next: p.start + 2,
    run(ctx: RuleContext): Verdict {
      const req = ctx.req;
      if (req === null) return CONTINUE;
      const subject = part === Part.Uri ? req.uri : part === Part.PathQ ? pathAndQuery(req.uri) : pathOnly(req.uri);
      if (subject.length === 0) return CONTINUE;
      const m = re.exec(subject);
      if (m === null) return CONTINUE;
      const out = expandReplacement(fmt.render(ctx), m);
      if (out === null) return REWRITE_ERROR;
      return rewrite(ctx, req, part, out);
    },
  };
};
