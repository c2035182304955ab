// Wires the HTTP actions module into the configuration: the `http-request`, `http-response`,
// `http-after-response` and `http-error` keywords (each line compiled when read, so that its
// errors point at it), `capture request|response header`, `use-server`, the `userlist` section,
// and the checks that need the whole configuration (userlists named by http_auth fetches,
// servers named by use-server). The running proxy compiles the same lines again
// (ProxyHttpRules), once, from the frozen configuration.

import {
  registerPostCheck,
  registerProxyKeywords,
  registerSection,
  type AclDef,
  type HttpRuleSpec,
  type ProxyConfig,
  type ProxyContext,
  type SourceLoc,
  type UserlistConfig,
} from '../config/index.js';
import { keepUserlistRefs, tableOf, takePendingRefs } from './conditions.js';
import { proxyTypeStr } from '../config/state.js';
import { acceptCondition } from '../config/proxy-keywords.js';
import { suggest } from '../config/registry.js';
import { conditionFrom } from '../config/state.js';
import { HTTP_ACTIONS_KNOWN } from '../config/known-keywords.js';
import { httpErrorsSections } from '../config/errorfile.js';
import { atol } from '../config/units.js';
import { atPlace, Place, type AclTable, type FileCache } from '../acl/index.js';
import {
  checkUserlistHeader,
  compileHttpRule,
  hasHttpAction,
  HttpRuleError,
  httpRuleErrorText,
  resolveUserlistRefs,
  ruleKeyword,
  takeUserlistRefs,
  UserlistBuilder,
  type HttpRule,
  type RuleDir,
  type Userlist,
} from '../http/actions/index.js';
import type { RuleWhereSides } from '../http/actions/compile.js';
import { parseReply, ReplyError, type ReplyTemplate } from '../http/actions/reply.js';


const LISTS: Record<RuleDir, 'httpRequestRules' | 'httpResponseRules' | 'httpAfterResponseRules'> = {
  request: 'httpRequestRules',
  response: 'httpResponseRules',
  'after-response': 'httpAfterResponseRules',
};

/** What replies are built with besides the rule: buffer sizes and the http-errors sections. */
interface ReplyLimits {
  bufsize: number;
  maxrewrite: number;
  /** Absent while the configuration is read (sections may come later). */
  httpErrors?: ReadonlyMap<string, ReadonlyMap<number, Buffer>>;
}

/**
 * The where-object a rule of `proxy` is compiled with, at load time and at start-up alike. The
 * sides of the proxy decide where its samples are evaluated: a defaults section has both.
 */
function ruleWhere(
  loc: SourceLoc,
  proxyName: string,
  sides: { fe: boolean; be: boolean },
  errorfiles: ReadonlyMap<number, Buffer>,
  lim: ReplyLimits,
): RuleWhereSides {
  const where: RuleWhereSides = { file: loc.file, line: loc.line, proxyName, frontend: sides.fe, backend: sides.be, errorfiles, bufsize: lim.bufsize, maxrewrite: lim.maxrewrite };
  if (lim.httpErrors !== undefined) where.httpErrors = lim.httpErrors;
  return where;
}

/** Limits at load time: the tune settings read so far. */
function loadLimits(state: ProxyContext['state']): ReplyLimits {
  const tune = state.global.tune;
  return { bufsize: tune.bufsize, maxrewrite: Math.min(tune.maxrewrite, tune.bufsize >> 1) };
}

/** `errorfiles <section>` references of rule replies, checked once every section is read. */
const sectionRefs = new WeakMap<ProxyContext['state'], Array<{ proxy: string; section: string; status: number }>>();

function refSections(state: ProxyContext['state'], proxy: string): (section: string, status: number) => void {
  return (section, status) => {
    let list = sectionRefs.get(state);
    if (list === undefined) sectionRefs.set(state, (list = []));
    list.push({ proxy, section, status });
  };
}

function parseRule(dir: RuleDir, ctx: ProxyContext): void {
  const { proxy, report, state } = ctx;
  const kw = ruleKeyword(dir);
  const words = ctx.args.slice(1);
  const list = proxy[LISTS[dir]];
  const action = words[0] ?? '';
  if (!hasHttpAction(dir, action) && HTTP_ACTIONS_KNOWN[dir].has(baseName(action))) {
    report.alert(`'${kw} ${baseName(action)}' is not supported yet by sluice.`);
    return;
  }
  const last = list[list.length - 1];
  if (last !== undefined && finalSpecs.has(last)) {
    report.warning(`previous '${kw}' action is final and has no condition attached, further entries are NOOP.`, 'parsing:');
  }
  const spec: HttpRuleSpec = { words, loc: ctx.loc, acls: proxy.acls };
  const where = ruleWhere(ctx.loc, proxy.name, proxy, proxy.errorfiles, loadLimits(state));
  where.errorfilesRef = refSections(state, proxy.name);
  where.acls = tableOf(proxy.acls, sampleDir(dir));
  where.declareCapture = (len) => {
    spec.captureSlot = proxy.reqCaptures.length;
    proxy.reqCaptures.push({ len });
    return spec.captureSlot;
  };
  where.warn = (m) => report.warning(m);
  let rule: HttpRule;
  try {
    rule = compileHttpRule(dir, words, where);
  } catch (e) {
    takeUserlistRefs();
    if (!(e instanceof HttpRuleError)) throw e;
    const known = [...HTTP_ACTIONS_KNOWN[dir]];
    let text = httpRuleErrorText(e, dir, proxyTypeStr(proxy), proxy.name, known);
    if (e.kind === 'unknown' && action !== '') {
      const best = suggest(action, known);
      if (best !== undefined) text += ` Did you mean '${best}' maybe ?`;
    }
    report.alert(text, e.kind === 'trailing' || e.kind === 'unknown' ? 'parsing:' : 'parsing');
    return;
  }
  if (dir === 'request' && proxy.useBackends.length > 0) {
    report.warning("a 'http-request' rule placed after a 'use_backend' rule will still be processed before.");
  }
  if (rule.cond !== null && rule.cond.warning !== null) report.warning(rule.cond.warning);
  keepUserlistRefs(state, [...rule.userlistRefs], proxy.name, rule.refWhere);
  if (rule.final && rule.cond === null) finalSpecs.add(spec);
  list.push(spec);
}

/** Direction of the samples a rule list reads. */
function sampleDir(dir: RuleDir): 'req' | 'res' {
  return dir === 'request' ? 'req' : 'res';
}

/** Rules that end their list (no condition, final action), for the warning on the next line. */
const finalSpecs = new WeakSet<HttpRuleSpec>();

function baseName(word: string): string {
  const p = word.indexOf('(');
  return p < 0 ? word : word.slice(0, p);
}

/** `http-error status N [reply arguments]`: the proxy's reply for errors of status N. */
function parseHttpError(ctx: ProxyContext): void {
  const { proxy, report, state, args } = ctx;
  if (args[1] !== 'status') {
    report.alert("'http-error' expects 'status' followed by a status code as first argument.", 'parsing:');
    return;
  }
  // `http-error status N errorfiles S` stands for `errorfiles S N`, in order with those lines.
  let section: string | undefined;
  try {
    const { next } = compileHttpError(args.slice(1), ctx.loc, proxy.errorfiles, loadLimits(state), (m) => report.warning(m), (s) => (section = s));
    if (args[next + 1] !== undefined) {
      report.alert(`http-error : unexpected argument '${args[next + 1]}'.`, 'parsing:');
      return;
    }
  } catch (e) {
    if (!(e instanceof ReplyError)) throw e;
    report.alert(`http-error : ${e.message}.`, 'parsing:');
    return;
  }
  if (section !== undefined) proxy.errorSources.push({ section, codes: [atol(args[2] ?? '')], loc: ctx.loc });
  else proxy.httpErrors.push({ words: args.slice(1), loc: ctx.loc, acls: [] });
}

function compileHttpError(
  words: readonly string[],
  loc: SourceLoc,
  errorfiles: ReadonlyMap<number, Buffer>,
  lim: ReplyLimits,
  warn: (m: string) => void,
  errorfilesRef?: (section: string) => void,
): { reply: ReplyTemplate; next: number } {
  // Its log-format strings may read the request or the response (HAProxy's ARGC_HERR).
  return atPlace(Place.Request | Place.Response, () =>
    parseReply(words, 0, 0, { dir: 'res', http: true, file: loc.file, line: loc.line, errorfiles, ...lim, warn, errorfilesRef, refs: [] }),
  );
}

/** `capture request|response header NAME len N` (cfgparse-listen.c). */
function parseCaptureKeyword(ctx: ProxyContext): void {
  const { args, report, proxy } = ctx;
  const side = args[1];
  if (side === 'cookie') {
    report.alert(`'capture cookie' is not supported yet by sluice.`);
    return;
  }
  if (side !== 'request' && side !== 'response') {
    report.alert(`'capture' expects 'cookie', 'request header' or 'response header'.`);
    return;
  }
  if (args[2] !== 'header') {
    report.alert(`'capture' expects 'cookie', 'request header' or 'response header'.`);
    return;
  }
  if (args[3] === undefined || args[4] !== 'len' || args[5] === undefined) {
    report.alert(`'capture ${side} header' expects <header name> 'len' <len>.`);
    return;
  }
  if (args[6] !== undefined) {
    report.alert(`'capture' : unexpected argument '${args[6]}'.`);
    return;
  }
  const len = parseInt(args[5], 10) || 0;
  const slot = { header: args[3].toLowerCase(), len };
  if (side === 'request') proxy.reqCaptures.push(slot);
  else proxy.resCaptures.push(slot);
}

function parseUseServer(ctx: ProxyContext): void {
  const { args, report, proxy } = ctx;
  const name = args[1];
  if (name === undefined) {
    report.alert("'use-server' expects a server name.");
    return;
  }
  const cond = conditionFrom(args, 2, ctx.loc);
  if (!cond) {
    report.alert("'use-server' requires either 'if' or 'unless' followed by a condition.");
    return;
  }
  // A dynamic name (a log-format string) is checked with the whole configuration, as HAProxy does.
  proxy.useServers.push({ server: name, cond, loc: ctx.loc });
  acceptCondition(ctx, cond, 'use-server', Place.BeSetSrv);
}

registerProxyKeywords([
  { name: 'http-request', cap: 'any', inDefaults: 'named', parse: (ctx) => parseRule('request', ctx) },
  { name: 'http-response', cap: 'any', inDefaults: 'named', parse: (ctx) => parseRule('response', ctx) },
  { name: 'http-after-response', cap: 'any', inDefaults: 'named', parse: (ctx) => parseRule('after-response', ctx) },
  { name: 'http-error', cap: 'any', inDefaults: true, parse: parseHttpError },
  { name: 'capture', cap: 'fe', inDefaults: false, parse: parseCaptureKeyword },
  { name: 'use-server', cap: 'be', inDefaults: false, parse: parseUseServer },
]);

// ---- userlist sections ----

interface UserlistDraft {
  config: UserlistConfig;
  builder: UserlistBuilder;
  /** A duplicate: its lines are ignored. */
  ignored: boolean;
}

registerSection({
  name: 'userlist',
  open(ctx): UserlistDraft | undefined {
    const { args, report, state, loc } = ctx;
    const bad = checkUserlistHeader(args);
    if (bad !== undefined) {
      report.alert(bad.message, bad.spaced ? 'parsing' : 'parsing:');
      return undefined;
    }
    const name = args[1]!;
    const config: UserlistConfig = { name, lines: [], loc };
    if (state.userlists.some((u) => u.name === name)) {
      report.warning(`ignoring duplicated userlist '${name}'.`, 'parsing:');
      return { config, builder: new UserlistBuilder(name), ignored: true };
    }
    state.userlists.push(config);
    return { config, builder: new UserlistBuilder(name), ignored: false };
  },
  line(ctx, data): void {
    const d = data as UserlistDraft;
    if (d.ignored) return;
    const r = ctx.report;
    d.builder.parseLine(ctx.args, { alert: (m) => r.alert(m, 'parsing:'), warning: (m) => r.warning(m, 'parsing:') });
    d.config.lines.push({ words: [...ctx.args], loc: ctx.loc });
  },
});

/** Builds the userlists of a configuration; `alert` receives the link errors (no file and line). */
export function buildUserlists(lists: readonly UserlistConfig[], alert: (m: string) => void = () => {}): Map<string, Userlist> {
  const out = new Map<string, Userlist>();
  const quiet = { alert: () => {}, warning: () => {} };
  for (const u of lists) {
    const b = new UserlistBuilder(u.name);
    for (const l of u.lines) b.parseLine(l.words, quiet);
    out.set(u.name, b.build({ alert, warning: () => {} }));
  }
  return out;
}

registerPostCheck((state) => {
  const lists = buildUserlists(state.userlists, (m) => state.diags.alert(m));
  const seen = new Set<string>();
  for (const p of takePendingRefs(state)) {
    for (const e of resolveUserlistRefs(p.refs, lists, p.proxy, p.where)) {
      const key = `${e.file}:${e.line}:${e.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      state.diags.alert(e.message, { file: e.file, line: e.line }, 'parsing:');
    }
  }
  const sections = new Map(httpErrorsSections(state).map((x) => [x.name, x.files]));
  for (const r of sectionRefs.get(state) ?? []) {
    const files = sections.get(r.section);
    if (files === undefined) state.diags.alert(`Proxy '${r.proxy}': unknown http-errors section '${r.section}' referenced by an http reply .`);
    else if (!files.has(r.status)) {
      state.diags.warning(`Proxy '${r.proxy}': status '${r.status}' referenced by an http reply not declared in http-errors section '${r.section}'.`);
    }
  }
  for (const p of state.proxies) {
    for (const r of p.useServers) {
      if (!r.server.includes('%[') && !p.servers.some((s) => s.name === r.server)) {
        state.diags.alert(`${proxyTypeStr(p)} '${p.name}' : unable to find server '${r.server}' referenced in a 'use-server' rule.`);
      }
    }
  }
});

// ---- the running proxy's rules ----

/** The HTTP rules of one running proxy, compiled once from its configuration. */
export class ProxyHttpRules {
  readonly request: readonly HttpRule[];
  readonly response: readonly HttpRule[];
  readonly afterResponse: readonly HttpRule[];
  /** `http-error` replies by status. */
  readonly errors: ReadonlyMap<number, ReplyTemplate>;

  constructor(p: ProxyConfig, userlists: ReadonlyMap<string, Userlist>, lim: Required<ReplyLimits>, files?: FileCache) {
    const tables = new Map<string, AclTable>();
    const tableIds = new Map<readonly AclDef[], number>();
    const own = { fe: p.kind !== 'backend', be: p.kind !== 'frontend' };
    // Rules inherited from a defaults section were written before the proxy: HAProxy compiled
    // them in the defaults section, which has both sides.
    const sidesOf = (s: HttpRuleSpec): { fe: boolean; be: boolean } =>
      s.loc.file !== p.loc.file || s.loc.line < p.loc.line ? { fe: true, be: true } : own;
    const compile = (dir: RuleDir, specs: readonly HttpRuleSpec[]): HttpRule[] =>
      specs.map((s) => {
        let id = tableIds.get(s.acls);
        if (id === undefined) tableIds.set(s.acls, (id = tableIds.size));
        const key = `${id}:${dir}`;
        let t = tables.get(key);
        if (t === undefined) tables.set(key, (t = tableOf(s.acls, sampleDir(dir), files)));
        const where = ruleWhere(s.loc, p.name, sidesOf(s), p.errorfiles, lim);
        where.acls = t;
        where.files = files;
        where.declareCapture = () => s.captureSlot ?? 0;
        const r = compileHttpRule(dir, s.words, where);
        resolveUserlistRefs(r.userlistRefs, userlists, p.name, r.refWhere);
        return r;
      });
    this.request = compile('request', p.httpRequestRules);
    this.response = compile('response', p.httpResponseRules);
    this.afterResponse = compile('after-response', p.httpAfterResponseRules);
    // Fetches of ACLs compiled above name userlists too.
    resolveUserlistRefs(takeUserlistRefs(), userlists, p.name);
    const errors = new Map<number, ReplyTemplate>();
    for (const s of p.httpErrors) {
      const { reply } = compileHttpError(s.words, s.loc, p.errorfiles, lim, () => {});
      errors.set(reply.status, reply);
    }
    this.errors = errors;
  }
}
