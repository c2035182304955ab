// The remaining actions: allow, set-log-level, disable-l7-retry, capture, wait-for-body,
// set-status and strict-mode (http_act.c, stream.c stream_parse_set_log_level).

import { BodyKind, htxStatusLine } from '../../htx/index.js';
import { parseSizeValue, parseTimeValue } from '../../config/units.js';
import { endsArgs, isCondWord, type ActionParser } from './parse.js';
import { httpReason, toBytes } from './text.js';
import { CONTINUE, STOP, STRICT_REWRITE_ERROR, VerdictKind, type RuleContext, type Verdict, type WaitForBodyVerdict } from './types.js';

/** `allow`: stops this rule list. */
export const parseAllow: ActionParser = (p) => ({ next: p.start, final: true, run: () => STOP });

/** `disable-l7-retry`. */
export const parseDisableL7Retry: ActionParser = (p) => ({
  next: p.start,
  run(ctx: RuleContext): Verdict {
    ctx.disableL7Retry();
    return CONTINUE;
  },
});

const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

/** `set-log-level <level>|silent`: the stream receives the syslog level, -1 for silent. */
export const parseSetLogLevel: ActionParser = (p) => {
  const w = p.arg(p.start);
  const level = w === 'silent' ? -1 : LOG_LEVELS.indexOf(w);
  if (w === '' || (level < 0 && w !== 'silent')) throw new Error("expects exactly 1 argument (log level name or 'silent')");
  return {
    next: p.start + 1,
    run(ctx: RuleContext): Verdict {
      ctx.setLogLevel(level);
      return CONTINUE;
    },
  };
};

/** strtol with the whole word consumed; NaN otherwise. */
function strictLong(s: string): number {
  return /^[ \t]*[+-]?\d+$/.test(s) ? parseInt(s, 10) : NaN;
}

/**
 * `capture <expr> len <n>` declares a capture slot of n bytes; `capture <expr> id <idx>` fills a
 * slot declared by `capture request header` (the caller checks that it exists).
 */
export const parseCapture: ActionParser = (p) => {
  let cur = p.start;
  while (cur < p.start + 3 && p.arg(cur) !== '' && !isCondWord(p.arg(cur))) cur++;
  if (cur < p.start + 3) throw new Error("expects <expression> [ 'len' <length> | id <idx> ]");
  const { expr, next } = p.expr(p.start);
  cur = next;
  const kw = p.arg(cur);
  if (kw === '') throw new Error("expects 'len or 'id'");
  let slot: number;
  let len = 0;
  if (kw === 'len') {
    cur++;
    if (p.where.frontend === false) throw new Error(`proxy '${p.where.proxyName ?? ''}' has no frontend capability`);
    const m = /^[ \t]*([+-]?\d+)/.exec(p.arg(cur));
    len = m ? parseInt(m[1]!, 10) : 0;
    if (len <= 0) throw new Error('length must be > 0');
    cur++;
    if (p.where.declareCapture === undefined) throw new TypeError('compileHttpRule: capture ... len needs where.declareCapture');
    slot = p.where.declareCapture(len);
  } else if (kw === 'id') {
    cur++;
    slot = strictLong(p.arg(cur));
    if (Number.isNaN(slot)) throw new Error(`cannot parse id '${p.arg(cur)}'`);
    cur++;
  } else {
    throw new Error(`expects 'len' or 'id', found '${kw}'`);
  }
  return {
    next: cur,
    captureLen: len,
    run(ctx: RuleContext): Verdict {
      const v = expr.evalString(ctx);
      if (v !== null) ctx.setCapture(slot, len > 0 && v.length > len ? v.slice(0, len) : v);
      return CONTINUE;
    },
  };
};

/** `wait-for-body time <time> [at-least <bytes>]`. */
export const parseWaitForBody: ActionParser = (p) => {
  const usage = 'expects time <time> [ at-least <bytes> ]';
  let cur = p.start;
  if (p.arg(cur) === '') throw new Error(usage);
  let time = -1;
  let atLeast = 0;
  for (;;) {
    const w = p.arg(cur);
    if (w === 'time') {
      if (p.arg(cur + 1) === '') throw new Error(`missing argument for '${w}'`);
      const r = parseTimeValue(p.arg(cur + 1));
      if (!r.ok) {
        if (r.error === 'overflow') throw new Error('time overflow (maximum value is 2147483647 ms or ~24.8 days)');
        if (r.error === 'underflow') throw new Error('time underflow (minimum non-null value is 1 ms)');
        throw new Error(`unexpected character '${r.char}'`);
      }
      if (r.trailing !== undefined) throw new Error(`unexpected character '${r.trailing[0]}'`);
      time = r.value;
    } else if (w === 'at-least') {
      if (p.arg(cur + 1) === '') throw new Error(`missing argument for '${w}'`);
      const r = parseSizeValue(p.arg(cur + 1));
      if (!r.ok) throw new Error(`unexpected character '${r.char}'`);
      atLeast = r.value;
    } else {
      break;
    }
    cur += 2;
  }
  if (time < 0) throw new Error(usage);
  const wait: WaitForBodyVerdict = Object.freeze({ kind: VerdictKind.WaitForBody, time, atLeast });
  const request = p.dir === 'request';
  return {
    next: cur,
    run(ctx: RuleContext): Verdict {
      const req = ctx.req;
      if (req !== null && req.method === 'CONNECT') return CONTINUE;
      let bytes: number;
      if (request) {
        if (req === null || req.bodyKind === BodyKind.None || ctx.reqComplete) return CONTINUE;
        bytes = ctx.reqBodyBytes;
      } else {
        const res = ctx.res;
        if (res === null || res.bodyKind === BodyKind.None || ctx.resComplete) return CONTINUE;
        bytes = ctx.resBodyBytes;
      }
      if (bytes >= ctx.bodyLimit || (atLeast > 0 && bytes >= atLeast)) return CONTINUE;
      return wait;
    },
  };
};

/** `set-status <status> [reason <str>]` (the reason is taken literally). */
export const parseSetStatus: ActionParser = (p) => {
  const w = p.arg(p.start);
  if (w === '') throw new Error('expects 1 argument: <status>; or 3 arguments: <status> reason <fmt>');
  const status = /^[+-]?\d+$/.test(w) ? parseInt(w, 10) : NaN;
  if (!(status >= 100 && status <= 999)) throw new Error('expects an integer status code between 100 and 999');
  let cur = p.start + 1;
  let reason = httpReason(status);
  if (p.arg(cur) === 'reason' && !endsArgs(p, cur + 1)) {
    reason = toBytes(p.arg(cur + 1));
    cur += 2;
  }
  return {
    next: cur,
    run(ctx: RuleContext): Verdict {
      const res = ctx.res;
      if (res === null) return CONTINUE;
      const room = ctx.htxRoom?.(true) ?? null;
      const before = htxStatusLine(res);
      const was = res.status;
      const wasReason = res.reason;
      res.status = status;
      res.reason = reason;
      if (room === null || room.resized(before, htxStatusLine(res))) return CONTINUE;
      res.status = was;
      res.reason = wasReason;
      return STRICT_REWRITE_ERROR;
    },
  };
};

/**
 * `strict-mode on|off`: whether a rewrite that fails in the rest of this rule list stops the
 * message (500) or is skipped.
 */
export const parseStrictMode: ActionParser = (p) => {
  const w = p.arg(p.start);
  if (w === '') throw new Error('expects exactly 1 arguments');
  const lw = w.toLowerCase();
  if (lw !== 'on' && lw !== 'off') throw new Error(`Unexpected value '${w}'. Only 'on' and 'off' are supported`);
  const soft = lw === 'off';
  return {
    next: p.start + 1,
    run(ctx: RuleContext): Verdict {
      ctx.softRewrites = soft;
      return CONTINUE;
    },
  };
};
