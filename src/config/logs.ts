// `log` targets (global and proxies), `log-tag`, `log-format` and the formats implied by
// `option httplog` / `option tcplog` (log.c parse_logsrv, cfgparse-listen.c).

import { checkLogTarget } from '../log/index.js';
import { parseAddress } from './address.js';
import { notSupportedYet } from './known-keywords.js';
import type { LogFormatKind, LogTarget } from './model.js';
import {
  registerGlobalKeywords,
  registerProxyKeywords,
  type KeywordContext,
  type ProxyContext,
} from './registry.js';
import { tooManyArgs } from './helpers.js';
import type { LogFormatOrigin, ProxyDraft } from './state.js';

/** HAProxy's `option httplog` format (also ${HAPROXY_HTTP_LOG_FMT}). */
export const HTTP_LOG_FORMAT =
  '%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r';
/** HAProxy's `option httplog clf` format (also ${HAPROXY_HTTP_CLF_LOG_FMT}). */
export const HTTP_CLF_LOG_FORMAT =
  '%{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl';
/** HAProxy's `option tcplog` format (also ${HAPROXY_TCP_LOG_FMT}). */
export const TCP_LOG_FORMAT = '%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq';
/** HAProxy's TCP CLF format (${HAPROXY_TCP_CLF_LOG_FMT}). */
export const TCP_CLF_LOG_FORMAT =
  '%{+Q}o %{-Q}ci - - [%T] "TCP " 000 %B "" "" %cp %ms %ft %b %s %Th %Tw %Tc %Tt %U %ts-- %ac %fc %bc %sc %rc %sq %bq "" "" ';
/** HAProxy's `option httpslog` format (${HAPROXY_HTTPS_LOG_FMT}). */
export const HTTPS_LOG_FORMAT = `${HTTP_LOG_FORMAT} %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc`;

/** The environment variables HAProxy predefines for its log formats. */
export const LOG_FORMAT_ENV: Record<string, string> = {
  HAPROXY_HTTP_LOG_FMT: HTTP_LOG_FORMAT,
  HAPROXY_HTTP_CLF_LOG_FMT: HTTP_CLF_LOG_FORMAT,
  HAPROXY_HTTPS_LOG_FMT: HTTPS_LOG_FORMAT,
  HAPROXY_TCP_LOG_FMT: TCP_LOG_FORMAT,
  HAPROXY_TCP_CLF_LOG_FMT: TCP_CLF_LOG_FORMAT,
};

export const LOG_FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news',
  'uucp', 'cron', 'auth2', 'ftp', 'ntp', 'audit', 'alert', 'cron2',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
];

export const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

const LOG_FORMATS: LogFormatKind[] = ['local', 'rfc3164', 'rfc5424', 'priority', 'short', 'timed', 'iso', 'raw'];

/** A log target whose host name still has to be resolved at start-up. */
export type LogTargetDraft = LogTarget & { fqdn?: string; fqdnFamily?: 0 | 4 | 6 };

const SYSLOG_PORT = 514;

/**
 * Parses `log ...` / `no log` into `logs` (in place). `global` is the list of the global
 * section, or undefined when parsing the global section itself. Returns an error text.
 */
export function parseLogLine(ctx: KeywordContext, logs: LogTargetDraft[], global: LogTargetDraft[] | undefined): string | undefined {
  const args = ctx.args;
  if (ctx.modifier === 'no') {
    if (args.length > 1) return "'no log' does not expect arguments";
    logs.length = 0;
    return undefined;
  }
  if (args[1] === 'global' && args.length === 2) {
    if (!global) return "'global' is not supported for a global syslog server";
    for (const g of global) {
      if (logs.some((l) => sameTarget(l, g))) continue;
      logs.push({ ...g, loc: ctx.loc });
    }
    return undefined;
  }
  if (args.length < 3) return `expects <address> and <facility> ${global ? 'or global' : ''} as arguments`;

  let cur = 2;
  let len = 1024;
  if (args[cur] === 'len') {
    const n = parseInt(args[cur + 1] ?? '', 10) || 0;
    if (n < 80 || n > 65535) return `invalid log length '${args[cur + 1] ?? ''}', must be between 80 and 65535`;
    len = n;
    cur += 2;
  }
  // Without `format`, HAProxy frames lines in its "local" format (no hostname: no log-send-hostname).
  let format: LogFormatKind = 'local';
  if (args[cur] === 'format') {
    const f = args[cur + 1] ?? '';
    if (!(LOG_FORMATS as string[]).includes(f)) return `unknown log format '${f}'`;
    format = f as LogFormatKind;
    cur += 2;
  }
  if (args[cur] === 'sample') return notSupportedYet("'log ... sample'").replace(/\.$/, '');
  if (args[cur] === 'profile') return notSupportedYet("'log ... profile'").replace(/\.$/, '');
  const facility = LOG_FACILITIES.indexOf(args[cur] ?? '');
  if (facility < 0) return `unknown log facility '${args[cur] ?? ''}'`;
  cur++;
  let maxLevel = 7;
  if (args[cur] !== undefined) {
    maxLevel = LOG_LEVELS.indexOf(args[cur]);
    if (maxLevel < 0) return `unknown optional log level '${args[cur]}'`;
    cur++;
  }
  let minLevel = 0;
  if (args[cur] !== undefined) {
    minLevel = LOG_LEVELS.indexOf(args[cur]);
    if (minLevel < 0) return `unknown optional minimum log level '${args[cur]}'`;
    cur++;
  }
  if (args[cur] !== undefined) return `cannot handle unexpected argument '${args[cur]}'`;

  const base = { format, facility, maxLevel, minLevel, len, loc: ctx.loc };
  const where = args[1] === 'stdout' ? 'fd@1' : args[1] === 'stderr' ? 'fd@2' : args[1];
  if (where.startsWith('ring@')) return notSupportedYet(`logging to rings ('${args[1]}')`).replace(/\.$/, '');
  const r = parseAddress(where, { portOk: true, portMandatory: false, portRange: false, portOffset: false }, ctx.state.env);
  if (!r.ok) return r.error;
  const a = r.addr;
  if (a.kind === 'fd') {
    if (a.path === '1') logs.push({ kind: 'stdout', ...base });
    else if (a.path === '2') logs.push({ kind: 'stderr', ...base });
    else return notSupportedYet(`logging to file descriptor '${a.path}'`).replace(/\.$/, '');
    return undefined;
  }
  if (a.kind === 'unix') {
    if (a.transport === 'stream') return notSupportedYet(`logging to a stream socket ('${args[1]}')`).replace(/\.$/, '');
    const target: LogTarget = { kind: 'unix', path: a.path, ...base };
    // Whether this process can send there at all is known now, not at the first log line.
    const err = checkLogTarget(target);
    if (err !== undefined) return err;
    logs.push(target);
    return undefined;
  }
  if (a.kind !== 'inet') return notSupportedYet(`logging to '${args[1]}'`).replace(/\.$/, '');
  if (a.transport === 'stream') return notSupportedYet(`logging over TCP ('${args[1]}')`).replace(/\.$/, '');
  const port = a.portMode === 'absolute' ? a.port : SYSLOG_PORT;
  if (a.fqdn !== undefined) {
    logs.push({ kind: 'udp', host: '', port, ...base, fqdn: a.fqdn, fqdnFamily: a.family });
  } else {
    logs.push({ kind: 'udp', host: a.host, port, family: a.family === 6 ? 6 : 4, ...base });
  }
  return undefined;
}

function sameTarget(a: LogTargetDraft, b: LogTargetDraft): boolean {
  return (
    a.kind === b.kind &&
    a.host === b.host &&
    a.port === b.port &&
    a.path === b.path &&
    a.fqdn === b.fqdn &&
    a.facility === b.facility &&
    a.format === b.format &&
    a.maxLevel === b.maxLevel &&
    a.minLevel === b.minLevel &&
    a.len === b.len
  );
}

/** Records a new traffic log format on a proxy, with HAProxy's warnings. */
export function setLogFormat(ctx: ProxyContext, format: string, origin: LogFormatOrigin): void {
  const p = ctx.proxy;
  if (p.kind === 'defaults' && p.logFormat !== undefined) {
    ctx.report.warning(`'${origin}' overrides previous '${p.logFormatOrigin ?? 'log-format'}' in 'defaults' section.`, 'parsing:');
  }
  p.logFormat = format;
  p.logFormatOrigin = origin;
  p.logFormatLoc = ctx.loc;
  p.options.httplog = origin === 'option httplog' || origin === 'option httplog clf';
  p.options.httplogClf = origin === 'option httplog clf';
  p.options.tcplog = origin === 'option tcplog';
  if (!p.fe) ctx.report.warning(`backend '${p.name}' : '${origin === 'log-format' ? 'log-format' : origin}' directive is ignored in backends.`);
}

registerGlobalKeywords([
  {
    name: 'log',
    modifiers: true,
    parse(ctx) {
      const err = parseLogLine(ctx, ctx.state.global.logs as LogTargetDraft[], undefined);
      if (err) ctx.report.alert(`log : ${err}`);
    },
  },
  {
    name: 'log-tag',
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      if (ctx.args[1] === undefined) {
        ctx.report.alert("'log-tag' expects a tag for use in syslog.");
        return;
      }
      ctx.state.global.logTag = ctx.args[1];
    },
  },
]);

registerProxyKeywords([
  {
    name: 'log',
    cap: 'any',
    inDefaults: true,
    modifiers: true,
    parse(ctx) {
      const err = parseLogLine(ctx, ctx.proxy.logs as LogTargetDraft[], ctx.state.global.logs as LogTargetDraft[]);
      if (err) ctx.report.alert(`log : ${err}`);
    },
  },
  {
    name: 'log-format',
    cap: 'any',
    inDefaults: true,
    parse(ctx) {
      if (ctx.args[1] === undefined) {
        ctx.report.alert('log-format expects an argument.');
        return;
      }
      if (ctx.args.length > 2) {
        ctx.report.alert("log-format expects only one argument, don't forget to escape spaces!");
        return;
      }
      setLogFormat(ctx, ctx.args[1], 'log-format');
    },
  },
]);

/** The log format HAProxy falls back to when a TCP proxy asks for `option httplog`. */
export function tcpFallback(p: ProxyDraft): boolean {
  return p.logFormatOrigin === 'option httplog' || p.logFormatOrigin === 'option httplog clf';
}
