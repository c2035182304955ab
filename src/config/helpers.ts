// Small helpers shared by the keyword parsers: argument counts, integers and times with
// HAProxy's error texts.

import type { KeywordContext } from './registry.js';
import { atol, isCleanInteger, parseTimeValue, type TimeResult } from './units.js';

/**
 * HAProxy's alertif_too_many_args_idx(): alerts when more than `max` arguments follow the
 * keyword words args[0..index]. Returns true when the line must be dropped.
 */
export function tooManyArgs(ctx: KeywordContext, max: number, index = 0): boolean {
  const extra = ctx.args[index + max + 1];
  if (extra === undefined) return false;
  const kw = ctx.args.slice(0, index + 1).join(' ');
  ctx.report.alert(`'${kw}' cannot handle unexpected argument '${extra}'.`);
  return true;
}

/**
 * Reads an integer the way HAProxy's atol() does (so "10k" is 10 and "abc" is 0), and warns
 * when the text is not a plain integer, which HAProxy silently accepts.
 */
export function lenientInt(ctx: KeywordContext, text: string): number {
  if (!isCleanInteger(text)) {
    ctx.report.warning(`'${ctx.args[0]}' : '${text}' is not a plain integer; it is read as ${atol(text)}.`);
  }
  return atol(text);
}

/** The wordings HAProxy uses for time errors, which differ from keyword to keyword. */
export type TimeErrorStyle =
  /** "timer overflow in argument '10d0' to 'timeout client' (maximum ...)" */
  | 'quoted'
  /** "... to '<kw>' (...)" with "unexpected character 'x' in argument to <kw>." */
  | 'angle';

/** Turns a failed time into HAProxy's message; `what` names the keyword ("timeout client"). */
export function timeErrorMessage(r: Exclude<TimeResult, { ok: true }>, text: string, what: string, style: TimeErrorStyle): string {
  if (r.error === 'overflow') {
    return `timer overflow in argument '${text}' to '${what}' (maximum value is 2147483647 ms or ~24.8 days)`;
  }
  if (r.error === 'underflow') {
    return `timer underflow in argument '${text}' to '${what}' (minimum non-null value is 1 ms)`;
  }
  return style === 'quoted' ? `unexpected character '${r.char}' in '${what}'` : `unexpected character '${r.char}' in argument to <${what}>.`;
}

/**
 * Parses a time argument, reporting HAProxy's errors (and its warning about characters after
 * the unit). Returns the value in ms, or undefined after an alert.
 */
export function timeArg(ctx: KeywordContext, text: string, what: string, style: TimeErrorStyle): number | undefined {
  const r = parseTimeValue(text);
  if (!r.ok) {
    ctx.report.alert(timeErrorMessage(r, text, what, style));
    return undefined;
  }
  warnTrailing(ctx, r, text);
  return r.value;
}

/** HAProxy's warning for "10sx": the value is used, the extra characters are ignored. */
export function warnTrailing(ctx: KeywordContext, r: TimeResult, text: string): void {
  if (r.ok && r.trailing !== undefined) {
    ctx.state.diags.warning(
      `unexpected character '${r.trailing[0]}' after the timer value '${text}', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions.`,
    );
  }
}
