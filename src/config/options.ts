// `option <name>` in proxies (cfgparse-listen.c, proxy.c cfg_opts): the options sluice
// implements, the ones accepted without effect, and the dispatcher that tells the rest apart.

import { parseNetwork } from './address.js';
import {
  COMMON_OPTIONS,
  OPTION_NOOP,
  OPTION_REMOVED,
  OPTION_UNSUPPORTED,
  notSupportedYet,
} from './known-keywords.js';
import type { ProxyOptions } from './model.js';
import { HTTP_CLF_LOG_FORMAT, HTTP_LOG_FORMAT, TCP_LOG_FORMAT, setLogFormat } from './logs.js';
import { warnIfNotCap } from './parser.js';
import {
  findOption,
  registerOptions,
  registerProxyKeywords,
  registeredNames,
  suggest,
  type OptionDef,
  type ProxyCap,
  type ProxyContext,
} from './registry.js';
import { tooManyArgs } from './helpers.js';
import type { HttpConnMode } from './state.js';
import { atol } from './units.js';

type FlagField = 'abortOnClose' | 'allbackups' | 'disableH2Upgrade' | 'dontlognull' | 'httpBufferRequest' | 'httpIgnoreProbes' | 'logasap';

/** An on/off option: `option X`, `no option X`, `default option X`. */
function flagOption(name: string, cap: ProxyCap, field: FlagField | undefined, httpOnly = false): OptionDef {
  return {
    name,
    cap,
    negatable: true,
    httpOnly,
    parse(ctx) {
      if (tooManyArgs(ctx, 0, 1)) return;
      if (field) ctx.proxy.options[field] = ctx.modifier === 'none';
    },
  };
}

/** httpclose, http-server-close and http-keep-alive: the last one given wins. */
function connModeOption(name: string, mode: HttpConnMode): OptionDef {
  return {
    name,
    cap: 'any',
    negatable: true,
    parse(ctx) {
      if (tooManyArgs(ctx, 0, 1)) return;
      const p = ctx.proxy;
      if (ctx.modifier === 'none') p.httpConnMode = mode;
      else if (ctx.modifier === 'no') {
        if (p.httpConnMode === mode) delete p.httpConnMode;
      } else {
        ctx.report.alert(`negation/default is not supported for option '${name}'.`, 'parsing:');
      }
    },
  };
}

/** Writes the connection mode into the three model booleans (at most one is true). */
export function applyConnMode(options: ProxyOptions, mode: HttpConnMode | undefined): void {
  options.httpKeepAlive = mode === 'kal';
  options.httpServerClose = mode === 'scl';
  options.httpClose = mode === 'clo';
}

function parseForwardFor(ctx: ProxyContext): void {
  const { args, report } = ctx;
  const ff: NonNullable<ProxyOptions['forwardfor']> = { header: 'X-Forwarded-For', ifNone: false };
  for (let i = 2; i < args.length; ) {
    const w = args[i];
    if (w === 'except') {
      const net = args[i + 1] !== undefined ? parseNetwork(args[i + 1]) : undefined;
      if (!net) {
        report.alert(`'option forwardfor except' expects <address>[/mask] as argument.`);
        return;
      }
      ff.except = net;
      i += 2;
    } else if (w === 'header') {
      const h = args[i + 1];
      if (h === undefined) {
        report.alert(`'option forwardfor header' expects <header_name> as argument.`);
        return;
      }
      ff.header = h;
      i += 2;
    } else if (w === 'if-none') {
      ff.ifNone = true;
      i++;
    } else {
      report.alert("'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'.");
      return;
    }
  }
  ctx.proxy.options.forwardfor = ff;
}

registerOptions([
  flagOption('abortonclose', 'be', 'abortOnClose'),
  flagOption('allbackups', 'be', 'allbackups'),
  flagOption('disable-h2-upgrade', 'fe', 'disableH2Upgrade', true),
  flagOption('dontlognull', 'fe', 'dontlognull'),
  flagOption('http-buffer-request', 'any', 'httpBufferRequest', true),
  flagOption('http-ignore-probes', 'fe', 'httpIgnoreProbes', true),
  flagOption('logasap', 'fe', 'logasap'),
  ...Object.entries(OPTION_NOOP).map(([name, cap]) => flagOption(name, cap, undefined)),
  connModeOption('httpclose', 'clo'),
  connModeOption('http-server-close', 'scl'),
  connModeOption('http-keep-alive', 'kal'),
  {
    name: 'redispatch',
    cap: 'be',
    negatable: true,
    parse(ctx) {
      const o = ctx.proxy.options;
      if (ctx.modifier === 'none') o.redispatch = ctx.args[2] !== undefined ? atol(ctx.args[2]) : -1;
      else delete o.redispatch;
    },
  },
  {
    name: 'forwardfor',
    cap: 'any',
    negatable: false,
    parse: parseForwardFor,
  },
  {
    name: 'httplog',
    cap: 'any',
    negatable: false,
    parse(ctx) {
      const extra = ctx.args[2];
      if (extra !== undefined && extra !== 'clf') {
        ctx.report.alert("keyword 'httplog' only supports option 'clf'.");
        return;
      }
      if (extra === 'clf' && tooManyArgs(ctx, 1, 1)) return;
      if (extra === 'clf') setLogFormat(ctx, HTTP_CLF_LOG_FORMAT, 'option httplog clf');
      else setLogFormat(ctx, HTTP_LOG_FORMAT, 'option httplog');
    },
  },
  {
    name: 'tcplog',
    cap: 'any',
    negatable: false,
    parse(ctx) {
      setLogFormat(ctx, TCP_LOG_FORMAT, 'option tcplog');
      tooManyArgs(ctx, 0, 1);
    },
  },
]);

/** Dispatches `option <name>` to its definition, or says why it cannot. */
function parseOption(ctx: ProxyContext): void {
  const { args, report } = ctx;
  const name = args[1];
  if (name === undefined) {
    report.alert("'option' expects an option name.", 'parsing:');
    return;
  }
  const removed = OPTION_REMOVED[name];
  if (removed !== undefined) {
    report.alert(removed, 'parsing:');
    return;
  }
  const def = findOption(name);
  if (def) {
    if (ctx.modifier !== 'none' && !def.negatable) {
      report.alert(`negation/default is not supported for option '${name}'.`, 'parsing:');
      return;
    }
    if (warnIfNotCap(ctx, def.cap, name)) return;
    def.parse(ctx);
    return;
  }
  if (OPTION_UNSUPPORTED.has(name)) {
    report.alert(notSupportedYet(`'option ${name}'`));
    return;
  }
  const best = suggest(name, [...registeredNames('option'), ...OPTION_UNSUPPORTED, ...COMMON_OPTIONS]);
  report.alert(`unknown option '${name}'${best ? `; did you mean '${best}' maybe ?` : '.'}`);
}

/** Options that only make sense in HTTP mode, with their model field. */
export const HTTP_ONLY_OPTIONS: Array<[string, FlagField]> = [
  ['disable-h2-upgrade', 'disableH2Upgrade'],
  ['http-buffer-request', 'httpBufferRequest'],
  ['http-ignore-probes', 'httpIgnoreProbes'],
];

registerProxyKeywords([{ name: 'option', cap: 'any', inDefaults: true, modifiers: true, parse: parseOption }]);
