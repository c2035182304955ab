// `tcp-check expect` and `http-check expect` (HAProxy 2.6 tcpcheck.c parse_tcpcheck_expect): the
// match (status codes, regexes, headers, body or raw bytes, possibly negated), the statuses the
// check reports, min-recv, on-success/on-error messages and comments, with HAProxy's texts.

import { notSupportedYet } from './known-keywords.js';
import type { CheckExpectRule, CheckMatchMethod, CheckStatusName } from './model.js';
import { at, binaryError, checkFormat, constantFormatText, err, lfWrap, readUint, regexError, type RuleInput, type RuleResult } from './check-rules.js';
import { atol } from './units.js';

const OK_STATUSES: Record<string, CheckStatusName> = { L7OK: 'L7OK', L7OKC: 'L7OKC', L6OK: 'L6OK', L4OK: 'L4OK' };
const ERROR_STATUSES: Record<string, CheckStatusName> = { L7RSP: 'L7RSP', L7STS: 'L7STS', L7OKC: 'L7OKC', L6RSP: 'L6RSP', L4CON: 'L4CON' };
const TOUT_STATUSES: Record<string, CheckStatusName> = { L7TOUT: 'L7TOUT', L6TOUT: 'L6TOUT', L4TOUT: 'L4TOUT' };
const MATCHES = new Set<CheckMatchMethod>(['str', 'beg', 'end', 'sub', 'reg']);

/** HAProxy's parse of `status <codes>`: "200", "200-399", "200,301-302"; read_uint semantics. */
export function parseStatusCodes(pattern: string): Array<[number, number]> | string {
  const codes: Array<[number, number]> = [];
  let p = 0;
  for (;;) {
    let r = readUint(pattern, p);
    const c1 = r.value;
    let c2 = c1;
    p = r.end;
    if (pattern[p] === '-') {
      r = readUint(pattern, p + 1);
      c2 = r.value;
      p = r.end;
    }
    if (c1 > c2) return `invalid range of status codes '${pattern}'`;
    codes.push([c1, c2]);
    if (p >= pattern.length) return codes;
    if (pattern[p] !== ',') return `invalid character '${pattern[p]}' in the list of status codes`;
    p++;
  }
}

type ExpectType = CheckExpectRule['type'];

/** `tcp-check expect ...` / `http-check expect ...` (parse_tcpcheck_expect). */
export function parseExpect(input: RuleInput): RuleResult {
  const args = [...input.args];
  const http = args[0] === 'http-check';
  if (at(args, 2) === '') return err('expects at least a matching pattern as arguments');
  let type: ExpectType | undefined;
  let pattern = '';
  let negate = false;
  let minRecv = -1;
  let ok: CheckStatusName | undefined;
  let error: CheckStatusName | undefined;
  let tout: CheckStatusName | undefined;
  let onSuccess: string | undefined;
  let onError: string | undefined;
  let comment: string | undefined;
  let hdr: NonNullable<CheckExpectRule['hdr']> | undefined;
  let nameLf = false;
  let valueLf = false;
  const only = (): string => 'only on pattern expected';
  const badKw = (w: string): string =>
    http
      ? `'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '${w}' as argument.`
      : `'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got '${w}' as argument.`;

  for (let i = 2; at(args, i) !== ''; i++) {
    let inPattern = false;
    // `!` prefixes toggle the negation; the word that follows is read again.
    for (;;) {
      const w = at(args, i);
      const v = at(args, i + 1);
      if (w === 'min-recv' || w === 'comment' || w === 'on-success' || w === 'on-error' || w === 'ok-status' || w === 'error-status' || w === 'tout-status' || w === 'status-code' || w === 'custom') {
        if (inPattern) return err(`[!] not supported with '${w}'`);
      }
      if (w === 'min-recv') {
        if (v === '') return err(`'${w}' expects a integer as argument`);
        i++;
        minRecv = atol(v);
        if (minRecv < -1 || minRecv > 2147483647) return err(`'${w}' expects -1 or an integer from 0 to INT_MAX`);
      } else if (w.startsWith('!')) {
        inPattern = true;
        let k = 0;
        while (w[k] === '!') {
          negate = !negate;
          k++;
        }
        args[i] = w.slice(k);
        if (args[i] === '') i++;
        continue;
      } else if (w === 'string' || w === 'rstring' || w === 'binary' || w === 'rbinary' || w === 'string-lf' || w === 'binary-lf' || w === 'status' || w === 'rstatus') {
        if (http && (w === 'binary' || w === 'rbinary')) return err(badKw(w));
        if (!http && (w === 'status' || w === 'rstatus')) return err(badKw(w));
        if (type !== undefined) return err(only());
        if (http && w === 'binary-lf') return err(badKw(w));
        type = w;
        if (v === '') return err(`'${w}' expects a <pattern> as argument`);
        i++;
        pattern = v;
      } else if (w === 'custom') {
        return err(notSupportedYet("'expect custom'"));
      } else if (w === 'hdr' || w === 'fhdr') {
        if (!http) return err(badKw(w));
        if (type !== undefined) return err(only());
        type = w;
        const key = at(args, i + 1);
        if (key === '' || at(args, i + 2) === '' || (key !== 'name' && key !== 'name-lf')) {
          return err(`'${w}' expects at the name keyword as first argument followed by a pattern`);
        }
        nameLf = key === 'name-lf';
        hdr = { name: '', nameMatch: 'str', valueMatch: 'str' };
        i += 2;
        if (args[i] === '-m') {
          const m = at(args, i + 1);
          if (m === '') return err(`'${w}' : '-m' expects at a matching pattern ('str', 'beg', 'end', 'sub' or 'reg')`);
          if (!MATCHES.has(m as CheckMatchMethod)) return err(`'${w}' : '-m' only supports 'str', 'beg', 'end', 'sub' or 'reg' (got '${m}')`);
          if (m === 'reg' && nameLf) return err(`'${w}': log-format string is not supported with a regex matching method`);
          hdr.nameMatch = m as CheckMatchMethod;
          i += 2;
        }
        hdr.name = at(args, i);
        const vk = at(args, i + 1);
        if (vk === 'value' || vk === 'value-lf') {
          valueLf = vk === 'value-lf';
          if (at(args, i + 2) === '-m') {
            i += 2;
            const m = at(args, i + 1);
            if (m === '') return err(`'${w}' : '-m' expects at a matching pattern ('str', 'beg', 'end', 'sub' or 'reg')`);
            if (!MATCHES.has(m as CheckMatchMethod)) return err(`'${w}' : '-m' only supports 'str', 'beg', 'end', 'sub' or 'reg' (got '${m}')`);
            if (m === 'reg' && valueLf) return err(`'${w}': log-format string is not supported with a regex matching method`);
            hdr.valueMatch = m as CheckMatchMethod;
          }
          if (at(args, i + 2) === '') return err(`'${w}' expect a pattern with the value keyword`);
          hdr.value = args[i + 2];
          i += 2;
        }
      } else if (w === 'comment' || w === 'on-success' || w === 'on-error') {
        if (v === '') return err(`'${w}' expects a string as argument`);
        i++;
        if (w === 'comment') comment = v;
        else if (w === 'on-success') onSuccess = v;
        else onError = v;
      } else if (w === 'ok-status' || w === 'error-status' || w === 'tout-status') {
        if (v === '') return err(`'${w}' expects a string as argument`);
        const table = w === 'ok-status' ? OK_STATUSES : w === 'error-status' ? ERROR_STATUSES : TOUT_STATUSES;
        const st = table[v.toUpperCase()];
        if (st === undefined) {
          const list =
            w === 'ok-status' ? "'L4OK', 'L6OK', 'L7OK' or 'L7OKC'" : w === 'error-status' ? "'L4CON', 'L6RSP', 'L7RSP' or 'L7STS'" : "'L4TOUT', 'L6TOUT' or 'L7TOUT'";
          return err(`'${w}' only supports ${list} status (got '${v}').`);
        }
        i++;
        if (w === 'ok-status') ok = st;
        else if (w === 'error-status') error = st;
        else tout = st;
      } else if (w === 'status-code') {
        if (v === '') return err(`'${w}' expects an expression as argument`);
        return err(notSupportedYet("'status-code' in expect rules"));
      } else {
        return err(badKw(w));
      }
      break;
    }
  }

  for (const f of [onSuccess, onError]) {
    if (f === undefined) continue;
    const e = checkFormat(f, lfWrap(f));
    if (e !== undefined) return err(e);
  }
  if (type === undefined) return err('pattern not found');
  let codes: Array<[number, number]> | undefined;
  switch (type) {
    case 'status': {
      const c = parseStatusCodes(pattern);
      if (typeof c === 'string') return err(c);
      codes = c;
      break;
    }
    case 'binary': {
      const e = binaryError(pattern);
      if (e !== undefined) return err(`invalid binary string (${e})`);
      break;
    }
    case 'rstring':
    case 'rbinary':
    case 'rstatus': {
      const e = regexError(pattern);
      if (e !== undefined) return err(e);
      break;
    }
    case 'string-lf':
    case 'binary-lf': {
      const e = checkFormat(pattern, lfWrap(pattern));
      if (e !== undefined) return err(e);
      break;
    }
    case 'hdr':
    case 'fhdr': {
      const h = hdr!;
      if (h.nameMatch === 'reg') {
        const e = regexError(h.name);
        if (e !== undefined) return err(e);
      } else if (nameLf) {
        const e = checkFormat(h.name, lfWrap(h.name));
        if (e !== undefined) return err(e);
        h.name = constantFormatText(h.name);
      }
      if (h.value !== undefined && h.valueMatch === 'reg') {
        const e = regexError(h.value);
        if (e !== undefined) return err(e);
      } else if (h.value !== undefined && valueLf) {
        // HAProxy 2.6 names the header pattern in this message, not the value.
        const e = checkFormat(h.value, lfWrap(h.name));
        if (e !== undefined) return err(e);
        h.value = constantFormatText(h.value);
      }
      pattern = h.name;
      break;
    }
    default:
      break;
  }
  const body = type === 'string' || type === 'rstring' || type === 'string-lf' || type === 'binary' || type === 'rbinary' || type === 'binary-lf';
  const rule: CheckExpectRule = {
    kind: 'expect',
    negate,
    type,
    pattern,
    minRecv,
    okStatus: ok ?? 'L7OK',
    errorStatus: error ?? (body || !http ? 'L7RSP' : 'L7STS'),
    toutStatus: tout ?? 'L7TOUT',
    loc: input.loc,
  };
  if (error !== undefined) rule.errorStatusSet = true;
  if (codes) rule.codes = codes;
  if (hdr) rule.hdr = hdr;
  if (onSuccess !== undefined) rule.onSuccess = onSuccess;
  if (onError !== undefined) rule.onError = onError;
  if (comment !== undefined) rule.comment = comment;
  return { rule };
}
