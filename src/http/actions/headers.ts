// Header actions: set-header, add-header, del-header, replace-header, replace-value
// (http_act.c, http_htx.c). They apply to the request in http-request rules and to the response
// in http-response and http-after-response rules.

import type { HtxHeaders, HtxRoom } from '../../htx/index.js';
import { expandReplacement, compileRuleRegex } from './regex.js';
import type { ActionParser } from './parse.js';
import { toBytes } from './text.js';
import { syncAuthority } from './uri.js';
import { CONTINUE, REWRITE_ERROR, type RuleContext, type RuleDir, type Verdict } from './types.js';

function headersOf(dir: RuleDir, ctx: RuleContext): HtxHeaders | null {
  if (dir === 'request') return ctx.req === null ? null : ctx.req.headers;
  return ctx.res === null ? null : ctx.res.headers;
}

/** The buffer accounting of the message `dir` rewrites, if the stream keeps one. */
function roomOf(dir: RuleDir, ctx: RuleContext): HtxRoom | null {
  return ctx.htxRoom === undefined ? null : ctx.htxRoom(dir !== 'request');
}

function nameIs(n: string, lname: string): boolean {
  return n.length === lname.length && n.toLowerCase() === lname;
}

/** After Host changed on a request with an absolute target, the target follows (HAProxy does). */
function afterHostChange(dir: RuleDir, ctx: RuleContext, lname: string, value: string): boolean {
  if (dir !== 'request' || lname !== 'host' || ctx.req === null) return true;
  return syncAuthority(ctx.req, value);
}

/** `set-header <name> <fmt>` and `add-header <name> <fmt>`. */
export const parseSetHeader: ActionParser = (p) => {
  const name = p.arg(p.start);
  const value = p.arg(p.start + 1);
  if (name === '' || value === '') throw new Error('expects exactly 2 arguments');
  const fmt = p.lf(value);
  const hname = toBytes(name);
  const lname = hname.toLowerCase();
  const set = p.action[0] === 's';
  const dir = p.dir;
  return {
    next: p.start + 2,
    run(ctx: RuleContext): Verdict {
      const h = headersOf(dir, ctx);
      if (h === null) return CONTINUE;
      const v = fmt.render(ctx);
      const room = roomOf(dir, ctx);
      if (set) deleteMatching(h, lname, null, MatchName.Str, room);
      h.push(hname, v);
      const uri = dir === 'request' ? ctx.req!.uri : '';
      const synced = afterHostChange(dir, ctx, lname, v);
      if (room !== null && !room.added()) {
        // Not added, as in HAProxy; a set-header has removed the old fields all the same.
        h.length -= 2;
        if (dir === 'request') ctx.req!.uri = uri;
        return REWRITE_ERROR;
      }
      return synced ? CONTINUE : REWRITE_ERROR;
    },
  };
};

const enum MatchName {
  Str,
  Beg,
  End,
  Sub,
  Reg,
}

/** Removes the fields whose name matches, telling `room`; `lname` is lower case. */
function deleteMatching(h: HtxHeaders, lname: string, re: RegExp | null, how: MatchName, room: HtxRoom | null): void {
  let w = 0;
  for (let i = 0; i < h.length; i += 2) {
    const n = h[i]!;
    let hit: boolean;
    switch (how) {
      case MatchName.Str:
        hit = nameIs(n, lname);
        break;
      case MatchName.Beg:
        hit = n.length >= lname.length && n.slice(0, lname.length).toLowerCase() === lname;
        break;
      case MatchName.End:
        hit = n.length >= lname.length && n.slice(n.length - lname.length).toLowerCase() === lname;
        break;
      case MatchName.Sub:
        hit = n.toLowerCase().includes(lname);
        break;
      case MatchName.Reg:
        // HAProxy matches its lower-case names; sluice keeps the case it received.
        hit = re!.test(n.toLowerCase());
        break;
    }
    if (hit) {
      room?.removed(n.length + h[i + 1]!.length);
      continue;
    }
    h[w++] = n;
    h[w++] = h[i + 1]!;
  }
  h.length = w;
}

/** `del-header <name> [-m str|beg|end|sub|reg]`. */
export const parseDelHeader: ActionParser = (p) => {
  const name = p.arg(p.start);
  if (name === '') throw new Error('expects at least 1 argument');
  let how = MatchName.Str;
  let re: RegExp | null = null;
  let cur = p.start;
  if (p.arg(cur + 1) === '-m') {
    cur++;
    if (p.arg(cur + 1) === '') throw new Error('-m flag expects exactly 1 argument');
    cur++;
    switch (p.arg(cur)) {
      case 'reg':
        re = compileRuleRegex(name);
        how = MatchName.Reg;
        break;
      case 'str':
        how = MatchName.Str;
        break;
      case 'beg':
        how = MatchName.Beg;
        break;
      case 'end':
        how = MatchName.End;
        break;
      case 'sub':
        how = MatchName.Sub;
        break;
      default:
        throw new Error(`-m with unsupported matching method '${p.arg(cur)}'`);
    }
  }
  const lname = toBytes(name).toLowerCase();
  const dir = p.dir;
  return {
    next: cur + 1,
    run(ctx: RuleContext): Verdict {
      const h = headersOf(dir, ctx);
      if (h !== null) deleteMatching(h, lname, re, how, roomOf(dir, ctx));
      return CONTINUE;
    },
  };
};

function isLws(c: number): boolean {
  return c === 32 || c === 9;
}

/** End of the comma-delimited value starting at `i` (http_find_hdr_value_end: quotes kept whole). */
function valueEnd(s: string, i: number): number {
  let quoted = false;
  let qdpair = false;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (qdpair) qdpair = false;
    else if (quoted) {
      if (c === 92) qdpair = true;
      else if (c === 34) quoted = false;
    } else if (c === 34) quoted = true;
    else if (c === 44) return i;
  }
  return i;
}

/**
 * replace-value on one field value: each comma-delimited value that the regex matches is
 * replaced (with the blanks around it) by the expansion. Returns null when an expansion fails.
 */
function replaceEachValue(value: string, re: RegExp, tmpl: string): string | null {
  let out = '';
  let p = 0;
  for (;;) {
    const end = valueEnd(value, p);
    let a = p;
    let b = end;
    while (a < b && isLws(value.charCodeAt(a))) a++;
    while (b > a && isLws(value.charCodeAt(b - 1))) b--;
    const m = re.exec(value.slice(a, b));
    if (m !== null) {
      const r = expandReplacement(tmpl, m);
      if (r === null) return null;
      out += r;
    } else {
      out += value.slice(p, end);
    }
    if (end >= value.length) return out;
    out += ',';
    p = end + 1;
  }
}

/** `replace-header <name> <regex> <fmt>` (whole lines) and `replace-value` (each value). */
export const parseReplaceHeader: ActionParser = (p) => {
  const name = p.arg(p.start);
  const regex = p.arg(p.start + 1);
  const fmtText = p.arg(p.start + 2);
  if (name === '' || regex === '' || fmtText === '') throw new Error('expects exactly 3 arguments');
  const re = compileRuleRegex(regex);
  const fmt = p.lf(fmtText);
  const full = p.action[8] === 'h';
  const lname = toBytes(name).toLowerCase();
  const dir = p.dir;
  return {
    next: p.start + 3,
    run(ctx: RuleContext): Verdict {
      const h = headersOf(dir, ctx);
      if (h === null) return CONTINUE;
      const room = roomOf(dir, ctx);
      let tmpl: string | null = null;
      for (let i = 0; i < h.length; i += 2) {
        if (!nameIs(h[i]!, lname)) continue;
        const v = h[i + 1]!;
        let nv: string | null;
        if (full) {
          let a = 0;
          let b = v.length;
          while (a < b && isLws(v.charCodeAt(a))) a++;
          while (b > a && isLws(v.charCodeAt(b - 1))) b--;
          const m = re.exec(v.slice(a, b));
          if (m === null) continue;
          tmpl ??= fmt.render(ctx);
          nv = expandReplacement(tmpl, m);
        } else {
          tmpl ??= fmt.render(ctx);
          nv = replaceEachValue(v, re, tmpl);
        }
        if (nv === null) return REWRITE_ERROR;
        if (nv === v) continue;
        h[i + 1] = nv;
        // Occurrences before this one stay rewritten, as in HAProxy.
        if (room !== null && !room.resized(h[i]!.length + v.length, h[i]!.length + nv.length)) {
          h[i + 1] = v;
          return REWRITE_ERROR;
        }
        if (!afterHostChange(dir, ctx, lname, nv)) return REWRITE_ERROR;
      }
      return CONTINUE;
    },
  };
};
