// Health-check rulesets of backends (HAProxy 2.6 tcpcheck.c and cfgparse.c): `option httpchk`,
// `option tcp-check`, `option log-health-checks`, `http-check ...`, `tcp-check ...`, and the
// global `spread-checks`.
//
// HAProxy keeps rules in named rulesets (one per proxy and kind, "*http-check-<proxy>_<file>-
// <line>"), and a proxy points at one of them: its own, or the one of the defaults section it
// was created from. Which one, and the order-dependent merges of the `option httpchk` request
// with `http-check send` lines, follow from that bookkeeping, so it is reproduced here as it is;
// finalizeRuleset then adds HAProxy's implicit rules (check_proxy_tcpcheck).

import { tooManyArgs } from './helpers.js';
import { notSupportedYet } from './known-keywords.js';
import type { CheckConnectRule, CheckExpectRule, CheckRule, CheckRuleset, CheckSendRule, SourceLoc } from './model.js';
import { warnIfNotCap } from './parser.js';
import { parseExpect } from './check-expect.js';
import { checkFormat, parseComment, parseConnect, parseHttpSend, parseTcpSend, type DraftRule, type RuleInput, type RuleResult } from './check-rules.js';
import { registerGlobalKeywords, registerOptions, registerPostCheck, registerProxyKeywords, type ProxyContext } from './registry.js';
import { proxyTypeStr, type ParserState, type ProxyDraft } from './state.js';
import { atol } from './units.js';

/** A named ruleset (HAProxy's struct tcpcheck_ruleset). */
export interface RulesetDraft {
  name: string;
  rules: DraftRule[];
}

/** A proxy's check settings while parsing (HAProxy's options2 PR_O2_CHK_ANY and tcpcheck_rules). */
export interface CheckDraft {
  /** `option httpchk` or `option tcp-check` was given (PR_O2_TCPCHK_CHK). */
  enabled: boolean;
  /** The kind of ruleset in use. */
  proto: 'none' | 'http' | 'tcp';
  /** Rules were written while another kind (or none) was in use: HAProxy warns they are ignored. */
  unusedTcp: boolean;
  unusedHttp: boolean;
  /** The ruleset in use: the proxy's own, or its defaults section's. */
  list?: RulesetDraft;
  disableOn404: boolean;
  sendState: boolean;
  /**
   * A connect rule with `ssl` was written here or in the defaults section (PR_O_TCPCHK_SSL):
   * every server of the backend then needs a TLS context, hence CAs or `verify none`.
   */
  connectSsl: boolean;
}

const rulesets = new WeakMap<ParserState, Map<string, RulesetDraft>>();

/** HAProxy's find-or-create of a ruleset by name. */
function ruleset(state: ParserState, name: string): RulesetDraft {
  let all = rulesets.get(state);
  if (!all) rulesets.set(state, (all = new Map()));
  let rs = all.get(name);
  if (!rs) all.set(name, (rs = { name, rules: [] }));
  return rs;
}

/** The name HAProxy gives the ruleset of a proxy. */
function rulesetName(kind: 'http' | 'tcp', p: ProxyDraft): string {
  return `*${kind}-check-${p.kind === 'defaults' ? 'defaults' : p.name}_${p.loc.file}-${p.loc.line}`;
}

const isComment = (r: DraftRule): boolean => r.kind === 'comment';
const firstRule = (rules: DraftRule[]): DraftRule | undefined => rules.find((r) => !isComment(r));
const lastRule = (rules: DraftRule[]): DraftRule | undefined => rules.findLast((r) => !isComment(r));
function nextRule(rules: DraftRule[], start: DraftRule): DraftRule | undefined {
  return rules.slice(rules.indexOf(start) + 1).find((r) => !isComment(r));
}

/** Frames a rule error as HAProxy does ("'http-check send' : <error>."). */
function frameError(args: string[], e: string): string {
  // sluice's own refusals already end their sentence.
  return `'${args[0]} ${args[1] ?? ''}' : ${e}${e.endsWith('by sluice.') ? '' : '.'}`;
}

/**
 * tcpcheck_overwrite_send_http_rule(): the defined parts of `from` replace those of `into`
 * (headers only when `from` has some; the comment of `into` stays).
 */
function overwriteSend(into: CheckSendRule, from: CheckSendRule): void {
  const a = into.http!;
  const b = from.http!;
  if (b.meth !== undefined) a.meth = b.meth;
  if (b.uri !== undefined) {
    a.uri = b.uri;
    a.uriLf = b.uriLf;
  }
  if (b.ver !== undefined) a.ver = b.ver;
  if (b.hdrs.length > 0) a.hdrs = b.hdrs;
  if (b.body !== undefined) {
    a.body = b.body;
    a.bodyLf = b.bodyLf;
  }
}

/** tcpcheck_add_http_rule(): adds a rule to an HTTP ruleset in use; an error text otherwise. */
function addHttpRule(rules: DraftRule[], chk: DraftRule): string | undefined {
  if (chk.kind === 'send' && chk.fromOpt) {
    let r = firstRule(rules);
    if (r && r.kind === 'connect') r = nextRule(rules, r);
    if (!r || r.kind !== 'send') rules.unshift(chk);
    else if (r.fromOpt) {
      rules.splice(rules.indexOf(r), 1);
      rules.unshift(chk);
    } else overwriteSend(r, chk);
    return undefined;
  }
  const last = lastRule(rules);
  if (!last || (last.kind === 'send' && last.fromOpt)) {
    // nothing to check
  } else if (last.kind !== 'connect' && chk.kind === 'send') {
    return `unable to add http-check send rule at step ${chk.index + 1} (missing connect rule).`;
  } else if (last.kind !== 'send' && last.kind !== 'expect' && chk.kind === 'expect') {
    return `unable to add http-check expect rule at step ${chk.index + 1} (missing send rule).`;
  } else if (last.kind !== 'expect' && chk.kind === 'connect') {
    return `unable to add http-check connect rule at step ${chk.index + 1} (missing expect rule).`;
  }
  let add = chk;
  if (chk.kind === 'send') {
    const first = firstRule(rules);
    if (first && first.kind === 'send' && first.fromOpt) {
      // The `option httpchk` request takes this line's parts and moves here.
      overwriteSend(first, chk);
      rules.splice(rules.indexOf(first), 1);
      delete first.fromOpt;
      add = first;
    }
  }
  rules.push(add);
  return undefined;
}

function ruleInput(ctx: ProxyContext, rules: DraftRule[]): RuleInput {
  const { args, loc, state } = ctx;
  return { args, rules, loc, state, report: (m) => state.diags.alert(frameError(args, m), loc) };
}

const ACTION_KW = /^(set-var|set-var-fmt|unset-var)\(/;

/** `http-check <rule>` (proxy_parse_httpcheck). */
function parseHttpCheck(ctx: ProxyContext): void {
  const { args, proxy: p, report } = ctx;
  const notCap = warnIfNotCap(ctx, 'be', 'http-check');
  const c = p.checks;
  const sub = args[1] ?? '';
  if (sub === 'disable-on-404' || sub === 'send-state') {
    if (sub === 'disable-on-404') c.disableOn404 = true;
    else c.sendState = true;
    if (tooManyArgs(ctx, 1)) return;
    // HAProxy 2.6 follows its capability warning with a second, empty one ("(null)").
    if (notCap) report.warning('(null)');
    return;
  }
  const rs = ruleset(ctx.state, rulesetName('http', p));
  const tail = rs.rules.at(-1);
  const index = tail && !(tail.kind === 'send' && tail.fromOpt) ? tail.index + 1 : 0;
  const input = ruleInput(ctx, rs.rules);
  let res: RuleResult;
  if (sub === 'connect') res = parseConnect(input);
  else if (sub === 'send') res = parseHttpSend(input);
  else if (sub === 'expect') res = parseExpect(input);
  else if (sub === 'comment') res = parseComment(input);
  else if (ACTION_KW.test(sub)) {
    report.alert(notSupportedYet(`'http-check ${sub.replace(/\(.*/, '')}'`));
    return;
  } else {
    report.alert(
      `'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '${sub}'`,
    );
    return;
  }
  if ('error' in res) {
    report.alert(frameError(args, res.error));
    return;
  }
  const rule = res.rule as DraftRule;
  rule.index = index;
  if (rule.kind === 'connect' && rule.ssl) c.connectSsl = true;
  if (c.enabled && c.proto === 'http') {
    c.list = rs;
    c.unusedHttp = false;
    const e = addHttpRule(rs.rules, rule);
    if (e !== undefined) {
      report.alert(frameError(args, e));
      delete c.list;
    }
  } else {
    c.unusedHttp = true;
    rs.rules.push(rule);
  }
}

/** `tcp-check <rule>` (proxy_parse_tcpcheck). */
function parseTcpCheck(ctx: ProxyContext): void {
  const { args, proxy: p, report } = ctx;
  const notCap = warnIfNotCap(ctx, 'be', 'tcp-check');
  const c = p.checks;
  const sub = args[1] ?? '';
  const rs = ruleset(ctx.state, rulesetName('tcp', p));
  const tail = rs.rules.at(-1);
  const index = tail ? tail.index + 1 : 0;
  const input = ruleInput(ctx, rs.rules);
  let res: RuleResult;
  if (sub === 'connect') res = parseConnect(input);
  else if (sub === 'send' || sub === 'send-binary' || sub === 'send-lf' || sub === 'send-binary-lf') res = parseTcpSend(input);
  else if (sub === 'expect') res = parseExpect(input);
  else if (sub === 'comment') res = parseComment(input);
  else if (ACTION_KW.test(sub)) {
    report.alert(notSupportedYet(`'tcp-check ${sub.replace(/\(.*/, '')}'`));
    return;
  } else {
    report.alert(
      `'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '${sub}'`,
    );
    return;
  }
  if ('error' in res) {
    report.alert(frameError(args, res.error));
    return;
  }
  // HAProxy 2.6 follows its capability warning with a second, empty one ("(null)").
  if (notCap) report.warning('(null)');
  const rule = res.rule as DraftRule;
  rule.index = index;
  if (rule.kind === 'connect' && rule.ssl) c.connectSsl = true;
  rs.rules.push(rule);
  if (c.enabled && c.proto === 'tcp') {
    c.list = rs;
    c.unusedTcp = false;
  } else {
    c.unusedTcp = true;
  }
}

/** The request of `option httpchk [[<method>] <uri> [<version>]]` (proxy_parse_httpchk_req). */
function httpchkRequest(ctx: ProxyContext): { rule: DraftRule; warning?: string } | { error: string } {
  const { args, loc } = ctx;
  const a = args[2] ?? '';
  const b = args[3] ?? '';
  let vsn = args[4] ?? '';
  let warning: string | undefined;
  let hdrText: string | undefined;
  let body: string | undefined;
  // The deprecated trick: headers and a body hidden after the version.
  const h = vsn.indexOf('\r\n');
  const bd = vsn.indexOf('\r\n\r\n');
  if (bd >= 0) body = vsn.slice(bd + 4);
  if (h >= 0 && h !== bd) hdrText = vsn.slice(h + 2, bd >= 0 ? bd : undefined);
  if (h >= 0) {
    vsn = vsn.slice(0, h);
    warning = "hiding headers or body at the end of the version string is deprecated. Please, consider to use 'http-check send' directive instead.";
  }
  const http: NonNullable<CheckSendRule['http']> = { uriLf: false, hdrs: [], bodyLf: false };
  if (a !== '') {
    if (b === '') http.uri = a;
    else http.meth = a;
  }
  if (b !== '') http.uri = b;
  if (vsn !== '') http.ver = vsn;
  if (hdrText !== undefined) {
    for (const line of hdrText.split('\r\n')) {
      const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
      if (!m) return { error: `unable to parse the request '${hdrText}\r\n\r\n'.` };
      const e = checkFormat(m[2], (x) => x);
      if (e !== undefined) return { error: e };
      http.hdrs.push({ name: m[1], value: m[2] });
    }
  }
  if (body !== undefined) http.body = body;
  const rule: DraftRule = { kind: 'send', http, loc, index: 0, fromOpt: true };
  return warning !== undefined ? { rule, warning } : { rule };
}

/** `option httpchk` (proxy_parse_httpchk_opt). */
function optionHttpchk(ctx: ProxyContext): void {
  const { proxy: p, report } = ctx;
  warnIfNotCap(ctx, 'be', 'httpchk');
  if (tooManyArgs(ctx, 3, 1)) return;
  const req = httpchkRequest(ctx);
  if ('error' in req) {
    report.alert(frameError(ctx.args, req.error));
    return;
  }
  if (req.warning !== undefined) report.warning(`'option httpchk' : ${req.warning}`, 'parsing:');
  const c = p.checks;
  c.enabled = true;
  const rs = ruleset(ctx.state, rulesetName('http', p));
  c.list = rs;
  c.unusedHttp = false;
  c.unusedTcp = false;
  c.proto = 'http';
  addHttpRule(rs.rules, req.rule);
}

/** `option tcp-check` (proxy_parse_tcp_check_opt). */
function optionTcpCheck(ctx: ProxyContext): void {
  const { proxy: p, defaults } = ctx;
  warnIfNotCap(ctx, 'be', 'tcp-check');
  if (tooManyArgs(ctx, 0, 1)) return;
  const c = p.checks;
  c.enabled = true;
  let rs: RulesetDraft | undefined;
  if (c.proto === 'tcp') {
    if (c.list) return;
    if (!c.unusedTcp) {
      // HAProxy looks for rules the defaults section wrote without enabling them.
      const name = `*tcp-check-defaults_${defaults.loc.file}-${defaults.loc.line}`;
      rs = rulesets.get(ctx.state)?.get(name);
    }
  }
  c.list = rs ?? ruleset(ctx.state, rulesetName('tcp', p));
  c.unusedHttp = false;
  c.unusedTcp = false;
  c.proto = 'tcp';
}

registerOptions([
  { name: 'httpchk', cap: 'any', negatable: false, parse: optionHttpchk },
  { name: 'tcp-check', cap: 'any', negatable: false, parse: optionTcpCheck },
  {
    name: 'log-health-checks',
    cap: 'be',
    negatable: true,
    parse(ctx) {
      if (tooManyArgs(ctx, 0, 1)) return;
      // `default option`: back to what the defaults section says.
      const o = ctx.proxy.options;
      o.logHealthChecks = ctx.modifier === 'default' ? ctx.defaults.options.logHealthChecks : ctx.modifier === 'none';
    },
  },
]);

registerProxyKeywords([
  { name: 'http-check', cap: 'any', inDefaults: true, parse: parseHttpCheck },
  { name: 'tcp-check', cap: 'any', inDefaults: true, parse: parseTcpCheck },
]);

registerGlobalKeywords([
  {
    name: 'spread-checks',
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      const g = ctx.state.global;
      if (g.spreadChecks !== 0) {
        ctx.report.softAlert('spread-checks already specified. Continuing.', 'parsing:');
        return;
      }
      const v = ctx.args[1] ?? '';
      if (v === '') {
        ctx.report.alert("'spread-checks' expects an integer argument (0..50).", 'parsing:');
        return;
      }
      g.spreadChecks = atol(v);
      if (g.spreadChecks < 0 || g.spreadChecks > 50) ctx.report.alert("'spread-checks' needs a positive value in range 0..50.", 'parsing:');
    },
  },
]);

// ---------------------------------------------------------------------------------------------
// After parsing: HAProxy's warnings of check_config_validity, and the servers' checks
// (init_srv_check).

/** The port a server's checks would use without connect rules (srv_check_healthcheck_port). */
function healthcheckPort(s: ProxyDraft['servers'][number]): number {
  if (s.checkPort !== undefined && s.checkPort > 0) return s.checkPort;
  if (s.checkAddr?.port !== undefined && s.checkAddr.port > 0) return s.checkAddr.port;
  return s.addr.port;
}

registerPostCheck((state) => {
  const diags = state.diags;
  for (const p of state.proxies) {
    // HAProxy checks nothing of a disabled proxy.
    if (p.disabled) continue;
    const c = p.checks;
    const who = `${proxyTypeStr(p)} '${p.name}'`;
    if (c.unusedHttp) diags.warning(`${who} uses http-check rules without 'option httpchk', so the rules are ignored.`);
    if (c.enabled && c.proto !== 'http') {
      for (const [kw, on] of [['disable-on-404', c.disableOn404], ['send-state', c.sendState]] as const) {
        if (on) diags.warning(`'${kw}' will be ignored for ${who} (requires 'option httpchk').`);
      }
      c.disableOn404 = false;
      c.sendState = false;
    }
    if (c.unusedTcp) diags.warning(`${who} uses tcp-check rules without 'option tcp-check', so the rules are ignored.`);
    if (!p.be) continue;
    const http = c.enabled && c.proto === 'http';
    const rules = c.enabled ? (c.list?.rules ?? []) : [];
    for (const s of p.servers) {
      // TLS for checks only (check-ssl, or connect rules with ssl) verifies as `ssl` does.
      const ssl = s.ssl ?? state.global.ssl.server;
      if (!ssl.enabled && (s.checkSsl === true || c.connectSsl) && ssl.verify !== 'none' && ssl.caFile === undefined) {
        diags.alert(
          `[${s.loc.file}:${s.loc.line}] : 'server ${p.name}/${s.name}' : verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default.`,
        );
      }
      if (!s.check) continue;
      const mux = s.checkProtoNone ? 'tcp' : s.checkProto !== undefined ? 'http' : undefined;
      if (mux !== undefined && (mux === 'http') !== http) {
        diags.alert(`config: ${who}: server '${s.name}' uses an incompatible MUX protocol for the selected check type`);
        continue;
      }
      if (healthcheckPort(s) !== 0) continue;
      const at = `config: ${who}: server '${s.name}' has neither service port nor check port`;
      const first = firstRule(rules);
      const hasPort = (r: DraftRule): boolean => r.kind === 'connect' && (r.port !== undefined || (r.addr?.port ?? 0) > 0);
      if (first === undefined) diags.alert(`${at}.`);
      else if (!hasPort(first)) diags.alert(`${at} nor tcp_check rule 'connect' with port information.`);
      else if (rules.some((r) => r.kind === 'connect' && !hasPort(r))) diags.alert(`${at}, and a tcp_check rule 'connect' with no port information.`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// The finished ruleset (check_proxy_tcpcheck)

/** A model rule from a draft rule: HAProxy's step number, no parsing marks. */
function modelRule(r: DraftRule, comment: string | undefined): CheckRule {
  const { index, fromOpt: _fromOpt, ...rest } = r;
  const out = structuredClone(rest) as CheckRule;
  if (out.kind === 'comment') return out;
  if (comment !== undefined && out.comment === undefined) out.comment = comment;
  const implicit = out.kind === 'connect' && out.implicit === true;
  out.step = implicit && index === 0 ? 0 : index + 1;
  return out;
}

/**
 * The ruleset a backend runs, complete as HAProxy 2.6 completes it: the `option httpchk`
 * request after the first connect, a closing `expect status 200-399` when an HTTP ruleset ends
 * with a send (or has no rule), a leading `connect default`, and comments moved onto the rules
 * that follow them. Undefined for layer-4 checks.
 */
export function finalizeRuleset(p: ProxyDraft, loc: SourceLoc): CheckRuleset | undefined {
  const c = p.checks;
  if (!p.be || !c.enabled || !c.list) return undefined;
  const http = c.proto === 'http';
  const rules: DraftRule[] = [...c.list.rules];
  if (http) {
    const first = firstRule(rules);
    if (first && first.kind === 'send' && first.fromOpt) {
      const next = nextRule(rules, first);
      if (next && next.kind === 'connect') {
        rules.splice(rules.indexOf(first), 1);
        rules.splice(rules.indexOf(next) + 1, 0, { ...first, index: next.index + 1 });
      }
    }
    const last = lastRule(rules);
    if (!last || last.kind === 'send') {
      const implicit: CheckExpectRule = {
        kind: 'expect',
        negate: false,
        type: 'status',
        pattern: '200-399',
        codes: [[200, 399]],
        minRecv: -1,
        okStatus: 'L7OK',
        errorStatus: 'L7STS',
        toutStatus: 'L7TOUT',
        loc,
      };
      rules.push({ ...implicit, index: last ? last.index + 1 : 0 });
    }
  }
  const first = firstRule(rules);
  if (!first || first.kind !== 'connect') {
    const connect: CheckConnectRule = { kind: 'connect', useDefault: true, sendProxy: false, ssl: false, linger: false, implicit: true, loc };
    rules.unshift({ ...connect, index: 0 });
  }
  // A comment applies to the rules that follow it, up to the next connect or the next change of
  // kind of rule.
  const out: CheckRule[] = [];
  let comment: string | undefined;
  let prev: CheckRule['kind'] = 'comment';
  for (const r of rules) {
    if (r.kind !== prev && prev !== 'comment') comment = undefined;
    prev = r.kind;
    if (r.kind === 'comment') {
      comment = r.text;
      continue;
    }
    out.push(modelRule(r, comment));
    if (r.kind === 'connect') comment = undefined;
  }
  return { type: http ? 'http' : 'tcp', rules: out, disableOn404: http && c.disableOn404, sendState: http && c.sendState };
}
