// `tcp-check expect` and `http-check expect` evaluated as haproxy 2.6 does (tcpcheck.c
// tcpcheck_eval_expect / tcpcheck_eval_expect_http): on a mismatch while more bytes may come
// the rule waits, unless `min-recv` makes the answer conclusive; a negated rule fails on a match.

import type { CheckExpectRule, CheckMatchMethod, CheckStatusName } from '../config/model.js';
import type { CheckResponse } from './http.js';

/** What an expect rule decided. */
export type ExpectVerdict =
  | { kind: 'wait' }
  | { kind: 'pass' }
  | { kind: 'fail'; status: CheckStatusName; code?: number; info: string };

const WAIT: ExpectVerdict = { kind: 'wait' };
const PASS: ExpectVerdict = { kind: 'pass' };

/** An expect rule with its patterns compiled once. */
export class CompiledExpect {
  private readonly re: RegExp | null = null;
  private bytes: Buffer | null = null;
  private readonly hdrName: RegExp | null = null;
  private readonly hdrValue: RegExp | null = null;

  constructor(
    readonly rule: CheckExpectRule,
    /** The step number HAProxy reports for this rule. */
    readonly step: number,
    /** string-lf / binary-lf: renders the pattern for this run. */
    private readonly lf: (() => string) | null = null,
    /** `on-error` / `on-success`: render the info reported instead of HAProxy's own. */
    private readonly onError: (() => string) | null = null,
    readonly onSuccess: (() => string) | null = null,
  ) {
    const t = rule.type;
    if (t === 'rstatus' || t === 'rstring' || t === 'rbinary') this.re = new RegExp(rule.pattern, 's');
    else if (t === 'binary') this.bytes = Buffer.from(rule.pattern, 'hex');
    else if (t === 'string') this.bytes = Buffer.from(rule.pattern, 'latin1');
    if (rule.hdr?.nameMatch === 'reg') this.hdrName = new RegExp(rule.hdr.name, 'i');
    if (rule.hdr?.valueMatch === 'reg' && rule.hdr.value !== undefined) this.hdrValue = new RegExp(rule.hdr.value);
  }

  /** Renders a log-format pattern; false when it comes out empty (a failure, as HAProxy). */
  private renderLf(): boolean {
    if (this.lf === null) return true;
    const text = this.lf();
    this.bytes = Buffer.from(text, this.rule.type === 'binary-lf' ? 'hex' : 'latin1');
    return this.bytes.length > 0;
  }

  /** tcp-check: evaluates the received bytes; `lastRead`: no more will come. */
  evalTcp(data: Buffer, lastRead: boolean, bufsize: number): ExpectVerdict {
    const r = this.rule;
    if (!this.renderLf()) return { kind: 'fail', status: 'L7RSP', info: 'log-format string evaluated to an empty string' };
    lastRead ||= data.length >= bufsize;
    if (!lastRead) {
      if (this.bytes !== null && data.length < this.bytes.length) return WAIT;
      if (r.minRecv > 0 && data.length < r.minRecv) return WAIT;
    }
    let match: boolean;
    if (this.bytes !== null) match = data.includes(this.bytes);
    else if (r.type === 'rbinary') match = this.re!.test(data.toString('hex').toUpperCase());
    else if (this.re !== null) match = this.re.test(data.toString('latin1'));
    else match = false;
    if (!match && !lastRead && r.minRecv === -1) return WAIT;
    if (match !== r.negate) return PASS;
    // tcp-check failures carry code 0 (shown with error-status L7STS).
    const info = this.onError !== null ? withComment(this.onError(), r.comment) : this.tcpInfo(match);
    return { kind: 'fail', status: r.errorStatus, code: 0, info };
  }

  private tcpInfo(match: boolean): string {
    const r = this.rule;
    let info = match ? 'TCPCHK matched unwanted content' : 'TCPCHK did not match content';
    if (r.type === 'string') info += ` '${r.pattern}'`;
    else if (r.type === 'binary') info += ' (binary)';
    else if (r.type === 'rstring') info += ' (regex)';
    else if (r.type === 'rbinary') info += ' (binary regex)';
    else if (r.type === 'string-lf') info += ' (log-format string)';
    else if (r.type === 'binary-lf') info += ' (log-format binary)';
    return withComment(`${info} at step ${this.step}`, r.comment);
  }

  /**
   * http-check: evaluates the response so far. `stopping404`: `disable-on-404` is on and the
   * server is not down, so a 404 passes here (the run ends in L7OKC).
   */
  evalHttp(res: CheckResponse, lastRead: boolean, bufsize: number, stopping404: boolean): ExpectVerdict {
    const r = this.rule;
    if (!this.renderLf()) return { kind: 'fail', status: 'L7RSP', info: 'log-format string evaluated to an empty string' };
    lastRead ||= res.complete || res.body.length >= bufsize;
    if (res.invalid) return { kind: 'fail', status: 'L7RSP', info: withComment('', r.comment) };
    if (res.status === 0) return lastRead ? { kind: 'fail', status: 'L7RSP', info: withComment('', r.comment) } : WAIT;
    if (stopping404 && res.status === 404) return PASS;
    let match: boolean;
    switch (r.type) {
      case 'status':
        match = r.codes!.some(([lo, hi]) => res.status >= lo && res.status <= hi);
        break;
      case 'rstatus':
        match = this.re!.test(String(res.status));
        break;
      case 'hdr':
      case 'fhdr':
        match = this.headerMatch(res.headers, r.type === 'fhdr');
        break;
      default: {
        const body = res.body;
        if (body.length === 0) {
          if (!lastRead) return WAIT;
          return { kind: 'fail', status: r.errorStatus, info: withComment('HTTP content check could not find a response body', r.comment) };
        }
        if (!lastRead && ((this.bytes !== null && body.length < this.bytes.length) || (r.minRecv > 0 && body.length < r.minRecv))) return WAIT;
        match = this.bytes !== null ? body.includes(this.bytes) : this.re!.test(body.toString('latin1'));
        if (!match && !lastRead && r.minRecv === -1) return WAIT;
        if (match !== r.negate) return PASS;
        const info = this.onError !== null ? this.onError() : r.negate ? 'HTTP check matched unwanted content' : 'HTTP content check did not match';
        return { kind: 'fail', status: r.errorStatus, code: res.status, info: withComment(info, r.comment) };
      }
    }
    if (match !== r.negate) return PASS;
    // Status and header mismatches report the status code and its reason phrase.
    return { kind: 'fail', status: r.errorStatus, code: res.status, info: withComment(this.onError !== null ? this.onError() : res.reason, r.comment) };
  }

  /** `hdr`: any comma-separated value of a matching header; `fhdr`: the full value. */
  private headerMatch(h: readonly string[], full: boolean): boolean {
    const spec = this.rule.hdr!;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i]!;
      if (!this.nameMatches(name, spec.name, spec.nameMatch)) continue;
      if (spec.value === undefined) return true;
      const raw = h[i + 1]!;
      const values = full ? [raw.trim()] : raw.split(',').map((v) => v.trim());
      for (const v of values) if (this.valueMatches(v, spec.value, spec.valueMatch)) return true;
    }
    return false;
  }

  private nameMatches(name: string, pat: string, m: CheckMatchMethod): boolean {
    if (m === 'reg') return this.hdrName!.test(name);
    return textMatch(name.toLowerCase(), pat.toLowerCase(), m);
  }

  private valueMatches(v: string, pat: string, m: CheckMatchMethod): boolean {
    if (m === 'reg') return this.hdrValue!.test(v);
    return textMatch(v, pat, m);
  }

  /** The info of a timeout while this rule waited, for tcp-check: " (expect string 'X')". */
  timeoutWhat(): string {
    const r = this.rule;
    switch (r.type) {
      case 'string':
        return ` (expect string '${r.pattern}')`;
      case 'binary':
        // The bytes themselves, as HAProxy prints them (the log shows the unprintable ones as <XX>).
        return ` (expect binary '${Buffer.from(r.pattern, 'hex').toString('latin1')}')`;
      case 'rstring':
        return ' (expect regex)';
      case 'rbinary':
        return ' (expect binary regex)';
      case 'string-lf':
        return ' (expect log-format string)';
      case 'binary-lf':
        return ' (expect log-format binary)';
      case 'status':
        return ' (expect HTTP status codes)';
      case 'rstatus':
        return ' (expect HTTP status regex)';
      default:
        return ' (expect HTTP header pattern)';
    }
  }
}

function textMatch(v: string, pat: string, m: CheckMatchMethod): boolean {
  switch (m) {
    case 'str':
      return v === pat;
    case 'beg':
      return v.startsWith(pat);
    case 'end':
      return v.endsWith(pat);
    default:
      return v.includes(pat);
  }
}

/** HAProxy appends an expect rule's comment to the info of its failure. */
function withComment(info: string, comment: string | undefined): string {
  return comment === undefined ? info : `${info} comment: ${comment}`;
}
