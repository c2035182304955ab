// Routes each statement to its section: opens sections (global, defaults, frontend, backend,
// listen, resolvers, and the ones sluice does not support yet), applies the "no"/"default"
// prefixes, and looks keywords up in the registry, then in the lists of recognised HAProxy
// keywords, to tell "not supported yet" from "unknown keyword".

import type { SourceLoc } from './model.js';
import {
  GLOBAL_NOOP,
  GLOBAL_TUNE,
  GLOBAL_UNSUPPORTED,
  PROXY_NOOP,
  PROXY_REMOVED,
  PROXY_TWO_WORD,
  PROXY_UNSUPPORTED,
  UNSUPPORTED_SECTIONS,
  notSupportedYet,
} from './known-keywords.js';
import {
  findGlobalKeyword,
  findProxyKeyword,
  findResolversKeyword,
  registeredNames,
  suggest,
  type KeywordContext,
  type KeywordModifier,
  type ProxyContext,
  findSection,
} from './registry.js';
import type { StatementResult } from './reader.js';
import { hasRules, inheritFrom, invalidChar, presetDefaults, proxyTypeStr, type ParserState, type ProxyDraft } from './state.js';

const PROXY_SECTIONS = new Set(['defaults', 'frontend', 'backend', 'listen']);

/** HAProxy's list of words that take the "no"/"default" prefix (cfgparse.c). */
const MODIFIABLE = new Set(['option', 'log', 'busy-polling', 'set-dumpable', 'strict-limits', 'insecure-fork-wanted', 'numa-cpu-mapping']);

/** HAProxy's extra suggestion candidates for proxy sections (cfgparse-listen.c common_kw_list). */
const COMMON_PROXY_WORDS = [
  'listen', 'frontend', 'backend', 'defaults', 'server', 'default-server', 'server-template', 'bind',
  'monitor-net', 'monitor-uri', 'mode', 'id', 'description', 'disabled', 'enabled', 'bind-process',
  'acl', 'dynamic-cookie-key', 'cookie', 'email-alert', 'persist', 'appsession',
  'load-server-state-from-file', 'server-state-file-name', 'max-session-srv-conns', 'capture',
  'retries', 'http-request', 'http-response', 'http-after-response', 'http-send-name-header',
  'block', 'redirect', 'use_backend', 'use-server', 'force-persist', 'ignore-persist',
  'stick-table', 'stick', 'stats', 'option', 'default_backend', 'http-reuse', 'monitor',
  'transparent', 'maxconn', 'backlog', 'fullconn', 'dispatch', 'balance', 'hash-type',
  'hash-balance-factor', 'unique-id-format', 'unique-id-header', 'log-format', 'log-format-sd',
  'log-tag', 'log', 'source', 'usesrc', 'error-log-format',
];

/** Handles one statement of a configuration file. */
export function handleStatement(state: ParserState, rawArgs: string[], loc: SourceLoc): StatementResult {
  const report = state.diags.at(loc);
  let args = rawArgs;
  let modifier: KeywordModifier = 'none';
  if (args[0] === 'no' || args[0] === 'default') {
    modifier = args[0] === 'no' ? 'no' : 'default';
    args = args.slice(1);
    if (args.length === 0 || !MODIFIABLE.has(args[0])) {
      report.alert(
        'negation/default currently supported only for options, log, busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.',
        'parsing:',
      );
      return 'continue';
    }
  }
  const word = args[0];
  const ctx: KeywordContext = { args, modifier, loc, report, state };

  if (word === 'global') return openGlobal(ctx);
  if (PROXY_SECTIONS.has(word)) return openProxy(ctx);
  if (word === 'resolvers') return openResolvers(ctx);
  const custom = findSection(word);
  if (custom !== undefined) {
    const data = custom.open(ctx);
    state.section = data === undefined ? { kind: 'unsupported', keyword: word } : { kind: 'custom', keyword: word, custom: { def: custom, data } };
    return 'continue';
  }
  if (UNSUPPORTED_SECTIONS.has(word)) {
    report.alert(`section '${word}' is not supported yet by sluice.`);
    state.section = { kind: 'unsupported', keyword: word };
    return 'continue';
  }

  const section = state.section;
  if (!section) {
    report.alert(`unknown keyword '${word}' out of section.`, 'parsing:');
    return 'continue';
  }
  switch (section.kind) {
    case 'global':
      dispatchGlobal(ctx);
      break;
    case 'resolvers': {
      const kw = findResolversKeyword(word);
      if (kw && section.resolvers) kw.parse({ ...ctx, resolvers: section.resolvers });
      else report.alert(`unknown keyword '${word}' in 'resolvers' section`);
      break;
    }
    case 'custom':
      section.custom!.def.line(ctx, section.custom!.data);
      break;
    case 'unsupported':
      // The section header was already refused; its lines carry no further meaning.
      break;
    default:
      if (section.proxy) dispatchProxy({ ...ctx, proxy: section.proxy, defaults: section.proxy.from ?? state.lastDefaults });
  }
  return 'continue';
}

function openGlobal(ctx: KeywordContext): StatementResult {
  const { state, args, report, loc } = ctx;
  if (args.length > 1) report.alert(`'global' cannot handle unexpected argument '${args[1]}'.`);
  state.global.loc ??= loc;
  state.section = { kind: 'global', keyword: 'global' };
  return 'continue';
}

function openResolvers(ctx: KeywordContext): StatementResult {
  const { state, args, report, loc } = ctx;
  const name = args[1];
  if (name === undefined) {
    report.alert('missing name for resolvers section.');
    return 'abort';
  }
  const bad = invalidChar(name);
  if (bad !== undefined) {
    report.alert(`character '${bad}' is not permitted in 'resolvers' name '${name}'.`);
    return 'abort';
  }
  const dup = state.resolvers.find((r) => r.name === name);
  if (dup) {
    report.alert(`Parsing [${loc.file}:${loc.line}]: resolvers '${name}' has same name as another resolvers (declared at ${dup.loc.file}:${dup.loc.line}).`, 'none');
    return 'abort';
  }
  const r = { name, nameservers: [], parseResolvConf: false, settings: [], loc };
  state.resolvers.push(r);
  state.section = { kind: 'resolvers', keyword: 'resolvers', resolvers: r };
  return 'continue';
}

/** Opens a defaults, frontend, backend or listen section (cfgparse-listen.c cfg_parse_listen). */
function openProxy(ctx: KeywordContext): StatementResult {
  const { state, args, report, loc } = ctx;
  const kind = args[0] as ProxyDraft['kind'];
  let name = args[1] ?? '';
  let fromIdx = 2;

  if (kind !== 'defaults') {
    if (args.length < 2) {
      report.alert(`'${kind}' expects an <id> argument`);
      return 'abort';
    }
    const bad = invalidChar(name);
    if (bad !== undefined) report.alert(`character '${bad}' is not permitted in '${kind}' name '${name}'.`);
    const fe = kind !== 'backend';
    const clash = state.proxies.find((p) => p.name === name && (fe ? p.fe : p.be));
    if (clash) {
      const mine = kind === 'listen' ? 'proxy' : kind;
      report.alert(
        `Parsing [${loc.file}:${loc.line}]: ${mine} '${name}' has the same name as ${proxyTypeStr(clash)} '${name}' declared at ${clash.loc.file}:${clash.loc.line}.`,
        'none',
      );
    }
    if (args.length > 2 && (args.length !== 4 || args[2] !== 'from')) {
      if (args.length > 4) report.alert(`'${kind}' cannot handle unexpected argument '${args[4]}'.`);
      else if (fe) report.alert("please use the 'bind' keyword for listening addresses.");
      else report.alert(`'${kind}' cannot handle unexpected argument '${args[2]}'.`);
      // HAProxy does not open the section: the following lines would land in the previous one.
      state.section = { kind: 'unsupported', keyword: kind };
      return 'continue';
    }
  } else if (args[1] === 'from' && args.length === 3) {
    // "defaults from NAME": an anonymous defaults section inheriting from a named one.
    name = '';
    fromIdx = 1;
  } else if (args.length > 2 && (args.length !== 4 || args[2] !== 'from')) {
    // HAProxy silently ignores these words; sluice says so.
    report.warning(`'defaults' : unexpected argument '${args[args.length > 4 ? 4 : 2]}' is ignored.`);
  }

  let base: ProxyDraft;
  if (args[fromIdx] === 'from') {
    const target = args[fromIdx + 1];
    const candidates = state.defaultsSections.filter((d) => d.name === target);
    // Like HAProxy, the first section with that name is used (and a duplicate is an error).
    const found = candidates[0];
    const label = kind === 'listen' ? 'proxy' : kind;
    if (!found) {
      report.alert(`defaults section '${target}' not found for ${label} '${name}'.`);
      return 'abort';
    }
    if (candidates.length > 1) {
      const [a, b] = candidates;
      report.alert(
        `ambiguous defaults section name '${target}' referenced by ${label} '${name}' exists at least at ${a.loc.file}:${a.loc.line} and ${b.loc.file}:${b.loc.line}.`,
      );
    }
    const bad = invalidChar(target);
    if (bad !== undefined) {
      report.alert(
        `character '${bad}' is not permitted in defaults section name '${target}' when designated by its name (section found at ${found.loc.file}:${found.loc.line}).`,
      );
    }
    found.explicitRef = true;
    base = found;
  } else if (kind === 'defaults') {
    // A defaults section without "from" starts again from HAProxy's documented defaults.
    base = presetDefaults(loc);
  } else {
    base = state.lastDefaults;
    base.implicitRef = true;
  }
  if (base.explicitRef && base.implicitRef) {
    report.softAlert(
      `defaults section '${base.name}' (declared at ${base.loc.file}:${base.loc.line}) is explicitly referenced by another proxy and implicitly used here. To avoid any ambiguity don't mix both usage. Add a last defaults section not explicitly used or always use explicit references.`,
    );
  }

  if (hasRules(base)) {
    if (kind === 'defaults') {
      report.alert(
        `a defaults section cannot inherit from a defaults section defining TCP/HTTP rules (defaults section at ${base.loc.file}:${base.loc.line}).`,
        'parsing:',
      );
      return 'abort';
    }
    if (kind === 'listen') {
      report.alert('a listen section cannot inherit from a defaults section defining TCP/HTTP rules.', 'parsing:');
      return 'abort';
    }
    const usedBy = base.rulesUsedBy;
    if (usedBy && usedBy !== kind) {
      report.alert(
        `frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at ${base.loc.file}:${base.loc.line}).`,
        'parsing:',
      );
      return 'abort';
    }
    base.rulesUsedBy = kind;
  }

  const proxy = inheritFrom(base, name, kind, loc);
  if (kind === 'defaults') {
    state.defaultsSections.push(proxy);
    state.lastDefaults = proxy;
  } else {
    proxy.from = base;
    state.proxies.push(proxy);
  }
  state.section = { kind, keyword: kind, proxy };
  return 'continue';
}

function dispatchGlobal(ctx: KeywordContext): void {
  const word = ctx.args[0];
  const kw = findGlobalKeyword(word);
  if (kw) {
    if (ctx.modifier !== 'none' && !kw.modifiers) {
      ctx.report.alert(`'${word}' does not support the '${ctx.modifier}' prefix.`);
      return;
    }
    kw.parse(ctx);
    return;
  }
  if (GLOBAL_TUNE.has(word) || GLOBAL_NOOP.has(word)) return;
  if (GLOBAL_UNSUPPORTED.has(word)) {
    ctx.report.alert(notSupportedYet(`'${word}'`));
    return;
  }
  const best = suggest(word, [...registeredNames('global'), ...GLOBAL_NOOP, ...GLOBAL_UNSUPPORTED, ...GLOBAL_TUNE]);
  ctx.report.alert(`unknown keyword '${word}' in 'global' section${best ? `; did you mean '${best}' maybe ?` : ''}`);
}

/** Dispatches a keyword of a defaults, frontend, backend or listen section. */
function dispatchProxy(ctx: ProxyContext): void {
  const { args, proxy, report } = ctx;
  const word = args[0];
  const kw = findProxyKeyword(word);
  if (kw) {
    if (ctx.modifier !== 'none' && !kw.modifiers) {
      report.alert(`'${word}' does not support the '${ctx.modifier}' prefix.`);
      return;
    }
    if (proxy.kind === 'defaults') {
      if (kw.inDefaults === false) {
        report.alert(`'${word}' not allowed in 'defaults' section.`, kw.defaultsAlert ?? 'parsing');
        return;
      }
      if (kw.inDefaults === 'named' && proxy.name === '') {
        report.alert(`'${word}' not allowed in anonymous 'defaults' section.`);
        return;
      }
    }
    warnIfNotCap(ctx, kw.cap, word, kw.capHint);
    kw.parse(ctx);
    return;
  }
  const removed = PROXY_REMOVED[word];
  if (removed !== undefined) {
    report.alert(removed.replace('%s', args[1] ?? ''));
    return;
  }
  if (PROXY_NOOP.has(word)) return;
  if (PROXY_UNSUPPORTED.has(word)) {
    const what = PROXY_TWO_WORD.has(word) && args[1] !== undefined ? `${word} ${args[1]}` : word;
    report.alert(notSupportedYet(`'${what}'`));
    return;
  }
  const best = suggest(word, [
    ...registeredNames('proxy'),
    ...PROXY_UNSUPPORTED,
    ...PROXY_NOOP,
    ...COMMON_PROXY_WORDS,
  ]);
  report.alert(`unknown keyword '${word}' in '${proxy.kind}' section${best ? `; did you mean '${best}' maybe ?` : ''}`);
}

/**
 * HAProxy's warnifnotcap(): a keyword for the other side of the proxy is ignored with a warning
 * (it is still parsed, so that its errors are reported). Returns true when the warning was
 * emitted.
 */
export function warnIfNotCap(ctx: ProxyContext, cap: 'fe' | 'be' | 'any', word: string, hint = ''): boolean {
  const p = ctx.proxy;
  if (cap === 'any' || (cap === 'fe' && p.fe) || (cap === 'be' && p.be)) return false;
  const missing = cap === 'fe' ? 'frontend' : 'backend';
  ctx.report.warning(`'${word}' ignored because ${proxyTypeStr(p)} '${p.name}' has no ${missing} capability.${hint}`);
  return true;
}
