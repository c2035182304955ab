// The rules of `tcp-check` and `http-check` lines (HAProxy 2.6 tcpcheck.c parse_tcpcheck_*):
// connect, send and comment (expect is in check-expect.ts), each read into a rule of the model with HAProxy's argument
// checks and error texts. What sluice cannot run is refused as "not supported yet": sample
// expressions (`port <expr>`, `status-code`), log-format strings that are not constant,
// `via-socks4`, UNIX socket addresses, the internal `expect custom`.
//
// Arguments are read as HAProxy reads them: an empty word ends the list of words.

import { isIP } from 'node:net';
import { compileRuleRegex } from '../http/actions/regex.js';
import { parseAddress } from './address.js';
import { notSupportedYet } from './known-keywords.js';
import type { CheckAddr, CheckConnectRule, CheckRule, CheckSendRule, SourceLoc } from './model.js';
import { Place } from '../acl/index.js';
import { checkLogFormatAt } from './registry.js';
import { resolveLater } from './resolve.js';
import type { ParserState } from './state.js';

/** A rule while parsing: HAProxy's index (its step is index + 1) and the `option httpchk` mark. */
export type DraftRule = CheckRule & { index: number; fromOpt?: boolean };

/** What a rule parser needs: the line, and the rules of the ruleset it is added to. */
export interface RuleInput {
  /** The words of the line: args[0] is `tcp-check` or `http-check`, args[1] the rule. */
  args: string[];
  rules: DraftRule[];
  loc: SourceLoc;
  state: ParserState;
  /** For resolution failures, reported after parsing like HAProxy reports them while parsing. */
  report(msg: string): void;
}

export type RuleResult = { rule: CheckRule } | { error: string };

export const err = (error: string): RuleResult => ({ error });

/** args[i], or '' past the end (HAProxy's argument arrays end with empty words). */
export function at(args: string[], i: number): string {
  return args[i] ?? '';
}

/** HAProxy's read_uint: the digits at the start, wrapping like a 32-bit unsigned integer. */
export function readUint(s: string, from = 0): { value: number; end: number } {
  let v = 0;
  let i = from;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
    v = (v * 10 + (s.charCodeAt(i) - 48)) % 4294967296;
    i++;
  }
  return { value: v, end: i };
}

/** HAProxy's parse_binary: an even number of hex digits; undefined when valid. */
export function binaryError(hex: string): string | undefined {
  if (hex.length % 2) return 'an even number of hex digit is expected';
  const bad = /[^0-9a-fA-F]/.exec(hex);
  if (bad) return `an hex digit is expected (found '${bad[0]}')`;
  return undefined;
}

/** A log-format string without any directive: literal text and '%%' only. */
function isConstantFormat(fmt: string): boolean {
  return !fmt.replaceAll('%%', '').includes('%');
}

/** The text of a constant log-format string ("%%" is a '%'). */
export function constantFormatText(fmt: string): string {
  return fmt.replaceAll('%%', '%');
}

/**
 * Checks a log-format string of a check rule: HAProxy's syntax errors first (through the log
 * module's checker when it is loaded), then sluice's limit: checks evaluate constant strings
 * only. `wrap` frames a syntax error the way the keyword reports it.
 */
export function checkFormat(fmt: string, wrap: (e: string) => string): string | undefined {
  if (isConstantFormat(fmt)) return undefined;
  const e = checkLogFormatAt(fmt, 'http', Place.BeChkRul);
  if (e !== undefined) return wrap(e);
  return notSupportedYet(`log-format expressions in health checks ('${fmt}')`, true);
}

/** HAProxy's usual framing of a bad log-format argument (two lines). */
export const lfWrap = (fmt: string) => (e: string): string => `'${fmt}' invalid log-format string (${e}).\n`;

/** Parses a comma-separated ALPN list (ssl_sock_parse_alpn); empty names are dropped. */
export function parseAlpnList(v: string): string[] | string {
  if (v === '') return 'missing the comma-delimited ALPN protocol suite';
  const names = v.split(',');
  const long = names.find((n) => n.length > 255);
  if (long !== undefined) return `ALPN protocol name too long : '${long}'`;
  return names.filter((n) => n !== '');
}

/** Mux protocols HAProxy 2.6 knows, with the mode of each. */
const MUX_MODES: Record<string, 'http' | 'tcp'> = { h1: 'http', h2: 'http', fcgi: 'http', none: 'tcp' };

/** Validates a regex with the wording of HAProxy's PCRE2 build; undefined when valid. */
export function regexError(src: string): string | undefined {
  try {
    compileRuleRegex(src);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Parses an address of `addr` (a connect rule's); a host name is resolved once parsing is over. */
export function checkAddress(
  input: Pick<RuleInput, 'state' | 'report'>,
  text: string,
  onError: (e: string) => string,
): CheckAddr | string {
  const r = parseAddress(text, { portOk: true, portMandatory: false, portRange: false, portOffset: false }, input.state.env);
  if (!r.ok) return onError(r.error);
  const a = r.addr;
  if (a.kind !== 'inet') return notSupportedYet(`check addresses on ${a.kind === 'unix' ? 'UNIX sockets' : `'${a.kind}@' addresses`} ('${text}')`, true);
  const out: CheckAddr = { host: a.host, family: a.family === 6 ? 6 : 4 };
  if (a.port > 0) out.port = a.port;
  if (a.fqdn !== undefined) {
    const fqdn = a.fqdn;
    resolveLater(input.state, {
      name: fqdn,
      family: a.family,
      apply(address, family) {
        out.host = address;
        out.family = family;
      },
      fail: () => input.report(onError(`invalid address: '${fqdn}' in '${text}'`)),
    });
  }
  return out;
}

/** A literal IP or a host name for `agent-addr` (str2ip): undefined when it is neither. */
export function agentAddress(
  input: Pick<RuleInput, 'state' | 'report'>,
  text: string,
  failure: string,
): CheckAddr | undefined {
  const v = isIP(text);
  if (v !== 0) return { host: text, family: v === 6 ? 6 : 4 };
  if (!/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$/.test(text) || /^[0-9.]+$/.test(text)) return undefined;
  const out: CheckAddr = { host: '', family: 4 };
  resolveLater(input.state, {
    name: text,
    family: 0,
    apply(address, family) {
      out.host = address;
      out.family = family;
    },
    fail: () => input.report(failure),
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// connect

/** `tcp-check connect ...` / `http-check connect ...` (parse_tcpcheck_connect). */
export function parseConnect(input: RuleInput): RuleResult {
  const { args, rules, loc } = input;
  for (const r of rules) {
    if (r.kind === 'connect') break;
    if (r.kind === 'comment' || (r.kind === 'send' && r.fromOpt)) continue;
    return err(
      "first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset",
    );
  }
  const rule: CheckConnectRule = { kind: 'connect', useDefault: false, sendProxy: false, ssl: false, linger: false, loc };
  const http = args[0] === 'http-check';
  for (let i = 2; at(args, i) !== ''; i++) {
    const w = args[i];
    const v = at(args, i + 1);
    switch (w) {
      case 'default':
        rule.useDefault = true;
        continue;
      case 'addr': {
        if (v === '') return err(`'addr' expects <ipv4|ipv6> as argument.`);
        const a = checkAddress(input, v, (e) => `'addr' : ${e}\n.`);
        if (typeof a === 'string') return err(a);
        rule.addr = a;
        i++;
        continue;
      }
      case 'port': {
        if (v === '') return err(`'port' expects a port number or a sample expression as argument.`);
        i++;
        const n = readUint(v);
        if (n.end !== v.length) return err(notSupportedYet(`sample expressions as check port ('${v}')`, true));
        if (n.value > 65535 || n.value < 1) return err(`expects a valid TCP port (from range 1 to 65535) or a sample expression, got ${v}.`);
        rule.port = n.value;
        continue;
      }
      case 'proto': {
        if (v === '') return err(`'proto' expects a MUX protocol as argument.`);
        const mode = MUX_MODES[v];
        if (mode === undefined) return err(`'proto' : unknown MUX protocol '${v}'.`);
        if (mode !== (http ? 'http' : 'tcp')) return err(`'proto' : invalid MUX protocol '${v}' for ${args[0]}`);
        // fcgi is a mux HAProxy has and sluice has not: the same answer as `proto fcgi` on servers.
        if (v === 'fcgi') return err(`'proto' : unknown MUX protocol '${v}'.`);
        if (v === 'h1' || v === 'h2') rule.proto = v;
        i++;
        continue;
      }
      case 'comment':
        if (v === '') return err(`'comment' expects a string as argument.`);
        rule.comment = v;
        i++;
        continue;
      case 'send-proxy':
        rule.sendProxy = true;
        continue;
      case 'via-socks4':
        return err(notSupportedYet("'via-socks4'"));
      case 'linger':
        rule.linger = true;
        continue;
      case 'ssl':
        rule.ssl = true;
        continue;
      case 'sni':
        if (v === '') return err(`'sni' expects a string as argument.`);
        rule.sni = v;
        i++;
        continue;
      case 'alpn': {
        const list = parseAlpnList(v);
        if (typeof list === 'string') return err(`'alpn' : ${list}`);
        rule.alpn = list;
        i++;
        continue;
      }
      default:
        return err(
          `expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got '${w}' as argument.`,
        );
    }
  }
  return { rule };
}

// ---------------------------------------------------------------------------------------------
// send

/** `tcp-check send|send-lf|send-binary|send-binary-lf <data> [comment <msg>]` (parse_tcpcheck_send). */
export function parseTcpSend(input: RuleInput): RuleResult {
  const { args, loc } = input;
  const kw = args[1];
  const binary = kw === 'send-binary' || kw === 'send-binary-lf';
  const lf = kw === 'send-lf' || kw === 'send-binary-lf';
  const data = at(args, 2);
  // HAProxy's message swaps its two words ("'string' expects a send as argument").
  if (data === '') return err(`'${kw === 'send-binary' ? 'binary string' : 'string'}' expects a ${kw} as argument`);
  const rule: CheckSendRule = { kind: 'send', data: { text: data, binary, lf }, loc };
  for (let i = 3; at(args, i) !== ''; i++) {
    if (args[i] !== 'comment') return err(`expects 'comment' but got '${args[i]}' as argument.`);
    if (at(args, i + 1) === '') return err(`'comment' expects a string as argument.`);
    rule.comment = args[++i];
  }
  if (kw === 'send-binary') {
    const e = binaryError(data);
    if (e !== undefined) return err(`'${data}' invalid binary string (${e}).\n`);
  } else if (lf) {
    const e = checkFormat(data, lfWrap(data));
    if (e !== undefined) return err(e);
  }
  return { rule };
}

/** `http-check send [meth M] [uri U|uri-lf F] [ver V] [hdr N V]* [body B|body-lf F] [comment C]`. */
export function parseHttpSend(input: RuleInput): RuleResult {
  const { args, loc } = input;
  const http: NonNullable<CheckSendRule['http']> = { uriLf: false, hdrs: [], bodyLf: false };
  let comment: string | undefined;
  let host: string | undefined;
  for (let i = 2; at(args, i) !== ''; i++) {
    const w = args[i];
    const v = at(args, i + 1);
    switch (w) {
      case 'meth':
      case 'uri':
      case 'uri-lf':
      case 'ver':
      case 'body':
      case 'body-lf':
      case 'comment':
        if (v === '') return err(`'${w}' expects a string as argument.`);
        i++;
        if (w === 'meth') http.meth = v;
        else if (w === 'ver') http.ver = v;
        else if (w === 'comment') comment = v;
        else if (w === 'uri' || w === 'uri-lf') {
          http.uri = v;
          http.uriLf = w === 'uri-lf';
        } else {
          http.body = v;
          http.bodyLf = w === 'body-lf';
        }
        continue;
      case 'hdr': {
        const name = at(args, i + 1);
        const value = at(args, i + 2);
        if (name === '' || value === '') return err(`'hdr' expects <name> and <value> as arguments`);
        i += 2;
        const lower = name.toLowerCase();
        if (lower === 'host') {
          if (host !== undefined) return err(`'${name}' header already defined (previous value is '${host}')`);
          host = value;
        } else if (lower === 'content-length' || lower === 'transfer-encoding') {
          // HAProxy computes the framing itself and drops these.
          continue;
        }
        http.hdrs.push({ name, value });
        continue;
      }
      default:
        return err(`expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got '${w}' as argument.`);
    }
  }
  if (http.uri !== undefined && http.uriLf) {
    const e = checkFormat(http.uri, lfWrap(http.uri));
    if (e !== undefined) return err(e);
  }
  // Header values are log-format strings; HAProxy reports their errors bare.
  for (const h of http.hdrs) {
    const e = checkFormat(h.value, (x) => x);
    if (e !== undefined) return err(e);
  }
  if (http.body !== undefined && http.bodyLf) {
    const e = checkFormat(http.body, lfWrap(http.body));
    if (e !== undefined) return err(e);
  }
  const rule: CheckSendRule = { kind: 'send', http, loc };
  if (comment !== undefined) rule.comment = comment;
  return { rule };
}

/** `tcp-check comment <text>` / `http-check comment <text>`. */
export function parseComment(input: RuleInput): RuleResult {
  const text = at(input.args, 2);
  if (text === '') return err('expects a string as argument');
  return { rule: { kind: 'comment', text, loc: input.loc } };
}
