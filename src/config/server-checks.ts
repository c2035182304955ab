// Health-check keywords of `server` and `default-server` lines (HAProxy 2.6 check.c, server.c
// and cfgparse-ssl.c srv_parse_*): timing, check address and port, TLS and PROXY protocol of
// checks, agents, observe/on-error, slowstart, and `init-state` (HAProxy 3.1+). Each fills its
// ServerCheckSettings field (or a draft field of ServerSettings) with HAProxy's argument checks
// and texts; errors are returned, the server line frames them.

import { agentAddress, checkAddress, parseAlpnList } from './check-rules.js';
import type { ServerCheckSettings } from './model.js';
import type { ServerOptionContext, ServerOptionDef } from './registry.js';
import type { ServerSettings } from './state.js';
import { atol, parseTimeValue } from './units.js';

function srvName(ctx: ServerOptionContext): string {
  return ctx.server?.name ?? '(null)';
}

/** The frame of a server line's messages ("'server be/s1' : "; nothing on default-server). */
export function serverPrefix(ctx: Pick<ServerOptionContext, 'proxy' | 'server'>): string {
  return ctx.server ? `'server ${ctx.proxy.name}/${ctx.server.name}' : ` : '';
}

/** Reports an alert about the line now, the way the server line frames it, and goes on. */
function alertNow(ctx: ServerOptionContext, msg: string): void {
  ctx.report.alert(`${serverPrefix(ctx)}${msg}.`, 'context');
}

function needArg(msg: (kw: string) => string): ServerOptionDef['parse'] {
  return (ctx) => (ctx.args[ctx.cur + 1] === undefined ? msg(ctx.args[ctx.cur]) : undefined);
}

function option(name: string, args: number, parse: ServerOptionDef['parse']): ServerOptionDef {
  return { name, args, defaultOk: true, parse };
}

function flag(name: string, apply: (t: ServerSettings) => void): ServerOptionDef {
  return option(name, 0, (ctx) => {
    apply(ctx.target);
    return undefined;
  });
}

/** A keyword whose one argument must be one of a few words. */
function choice(name: string, apply: (t: ServerSettings, v: string) => boolean, expects: string): ServerOptionDef {
  return option(name, 1, (ctx) => {
    const v = ctx.args[ctx.cur + 1] ?? '';
    return apply(ctx.target, v) ? undefined : `'${name}' expects ${expects} but got '${v}'`;
  });
}

const DELAY_FIELD = {
  inter: 'checkInter',
  fastinter: 'checkFastinter',
  downinter: 'checkDowninter',
  'agent-inter': 'agentInter',
} as const;

/** inter, fastinter, downinter, agent-inter. */
function delayOption(name: keyof typeof DELAY_FIELD): ServerOptionDef {
  return option(name, 1, (ctx) => {
    const v = ctx.args[ctx.cur + 1];
    if (v === undefined) return `'${name}' expects a delay as argument.`;
    const r = parseTimeValue(v);
    if (!r.ok) {
      if (r.error === 'overflow') return `timer overflow in argument <${v}> to <${name}> of server ${srvName(ctx)}, maximum value is 2147483647 ms (~24.8 days).`;
      if (r.error === 'underflow') return `timer underflow in argument <${v}> to <${name}> of server ${srvName(ctx)}, minimum non-null value is 1 ms.`;
      return `unexpected character '${r.char}' in '${name}' argument of server ${srvName(ctx)}.`;
    }
    if (r.value <= 0) return `invalid value ${r.value} for argument '${name}' of server ${srvName(ctx)}.`;
    ctx.target[DELAY_FIELD[name]] = r.value;
    return undefined;
  });
}

const ON_ERROR = new Set<ServerCheckSettings['onError']>(['fastinter', 'fail-check', 'sudden-death', 'mark-down']);
const INIT_STATES = new Set(['fully-up', 'up', 'down', 'fully-down']);

/** Keywords of health checks and agents. */
export const CHECK_OPTIONS: ServerOptionDef[] = [
  ...(['inter', 'fastinter', 'downinter', 'agent-inter'] as const).map(delayOption),
  ...['rise', 'fall'].map((name) =>
    option(name, 1, (ctx) => {
      const v = ctx.args[ctx.cur + 1];
      if (v === undefined) return `'${name}' expects an integer argument.`;
      if (atol(v) <= 0) return `'${name}' has to be > 0.`;
      if (name === 'rise') ctx.target.checkRise = atol(v);
      else ctx.target.checkFall = atol(v);
      return undefined;
    }),
  ),
  option('slowstart', 1, (ctx) => {
    const v = ctx.args[ctx.cur + 1];
    if (v === undefined) return "'slowstart' expects <value> as argument.";
    const r = parseTimeValue(v);
    if (!r.ok) {
      if (r.error === 'overflow') return `overflow in argument <${v}> to <slowstart> of server ${srvName(ctx)}, maximum value is 2147483647 ms (~24.8 days).`;
      if (r.error === 'underflow') return `underflow in argument <${v}> to <slowstart> of server ${srvName(ctx)}, minimum non-null value is 1 ms.`;
      return `unexpected character '${r.char}' in 'slowstart' argument of server ${srvName(ctx)}.`;
    }
    // HAProxy keeps whole seconds, rounded up.
    ctx.target.slowstart = Math.ceil(r.value / 1000) * 1000;
    return undefined;
  }),
  option('port', 1, (ctx) => {
    const v = ctx.args[ctx.cur + 1];
    if (v === undefined) return "'port' expects a port number as argument.";
    // Stricter than HAProxy 2.6, which takes any number (0 meaning the server's port).
    const n = atol(v);
    if (n < 1 || n > 65535) return "'port' expects a port number as argument.";
    ctx.target.checkPort = n;
    return undefined;
  }),
  option('addr', 1, (ctx) => {
    const v = ctx.args[ctx.cur + 1];
    if (v === undefined || v === '') return "'addr' expects <ipv4|ipv6> as argument.";
    const a = checkAddress({ state: ctx.state, report: (m) => alertNow(ctx, m) }, v, (e) => `'addr' : ${e}`);
    // The server line ends the sentence itself.
    if (typeof a === 'string') return a.replace(/ by sluice\.$/, ' by sluice');
    ctx.target.checkAddr = a;
    return undefined;
  }),
  option('agent-port', 1, (ctx) => {
    const v = ctx.args[ctx.cur + 1];
    if (v === undefined || v === '') return "'agent-port' expects a port number as argument.";
    ctx.target.agentPort = atol(v);
    return undefined;
  }),
  option('agent-addr', 1, (ctx) => {
    const v = ctx.args[ctx.cur + 1];
    if (v === undefined || v === '') return "'agent-addr' expects an address as argument.";
    const failure = `parsing agent-addr failed. Check if '${v}' is correct address.`;
    const a = agentAddress({ state: ctx.state, report: (m) => alertNow(ctx, m) }, v, failure);
    if (a === undefined) return failure;
    ctx.target.agentAddr = a;
    return undefined;
  }),
  option('agent-send', 1, (ctx) => {
    const v = ctx.args[ctx.cur + 1];
    if (v === undefined || v === '') return "'agent-send' expects a string as argument.";
    ctx.target.agentSend = v;
    return undefined;
  }),
  flag('agent-check', (t) => (t.agentCheck = true)),
  flag('no-agent-check', (t) => (t.agentCheck = false)),
  flag('check-send-proxy', (t) => (t.checkSendProxy = true)),
  flag('no-check-send-proxy', (t) => (t.checkSendProxy = false)),
  flag('check-ssl', (t) => (t.checkSsl = true)),
  flag('no-check-ssl', (t) => (t.checkSsl = false)),
  option('check-sni', 1, (ctx) => {
    const v = ctx.args[ctx.cur + 1];
    if (v === undefined || v === '') return "'check-sni' : missing SNI";
    ctx.target.checkSni = v;
    return undefined;
  }),
  option('check-alpn', 1, (ctx) => {
    const list = parseAlpnList(ctx.args[ctx.cur + 1] ?? '');
    if (typeof list === 'string') return `'check-alpn' : ${list}`;
    ctx.target.checkAlpn = list;
    return undefined;
  }),
  option('check-proto', 1, (ctx) => {
    const v = ctx.args[ctx.cur + 1];
    if (v === undefined || v === '') return "'check-proto' : missing value";
    // fcgi is known to HAProxy but not to sluice: the same answer as `proto fcgi`.
    if (v !== 'h1' && v !== 'h2' && v !== 'none') return `'check-proto' :  unknown MUX protocol '${v}'`;
    if (ctx.isDefault) {
      // HAProxy (2.6 to 3.x) does not copy it from default-server to the servers.
      ctx.report.warning(`'check-proto' on a 'default-server' line is not passed on to the servers (as in HAProxy); set it on the 'server' lines.`);
      return undefined;
    }
    const t = ctx.target;
    if (v === 'none') {
      delete t.checkProto;
      t.checkProtoNone = true;
    } else {
      t.checkProto = v;
      t.checkProtoNone = false;
    }
    return undefined;
  }),
  option('observe', 1, (ctx) => {
    const v = ctx.args[ctx.cur + 1];
    if (v === undefined || v === '') return "'observe' expects <mode> as argument.";
    if (v === 'none') delete ctx.target.observe;
    else if (v === 'layer4') ctx.target.observe = 'layer4';
    else if (v === 'layer7') {
      // HAProxy's alert does not fail the configuration: the server just does not observe.
      if (ctx.proxy.mode !== 'http') ctx.report.softAlert(`${serverPrefix(ctx)}'layer7' can only be used in http proxies..`, 'context');
      else ctx.target.observe = 'layer7';
    } else return `'observe' expects one of 'none', 'layer4', 'layer7' but got '${v}'`;
    return undefined;
  }),
  option('error-limit', 1, (ctx) => {
    const v = ctx.args[ctx.cur + 1];
    if (v === undefined || v === '') return "'error-limit' expects an integer argument.";
    const n = atol(v) | 0;
    if (n <= 0) return 'error-limit has to be > 0.';
    ctx.target.errorLimit = n;
    return undefined;
  }),
  choice(
    'on-error',
    (t, v) => {
      if (!ON_ERROR.has(v as ServerCheckSettings['onError'])) return false;
      t.onError = v as ServerCheckSettings['onError'];
      return true;
    },
    "one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down'",
  ),
  choice('on-marked-down', (t, v) => v === 'shutdown-sessions' && (t.onMarkedDownShutdown = true), "'shutdown-sessions'"),
  choice('on-marked-up', (t, v) => v === 'shutdown-backup-sessions' && (t.onMarkedUpShutdownBackups = true), "'shutdown-backup-sessions'"),
  // HAProxy 3.1+; the wording of the current HAProxy.
  choice(
    'init-state',
    (t, v) => {
      if (v === 'none') delete t.initState;
      else if (INIT_STATES.has(v)) t.initState = v as NonNullable<ServerCheckSettings['initState']>;
      else return false;
      return true;
    },
    "one of 'none', 'fully-up', 'up', 'down', or 'fully-down'",
  ),
  // Keywords of later HAProxy versions, accepted without effect.
  ...[
    ['check-pool-conn-name', 'a name'],
    ['pool-low-conn', 'a value'],
  ].map(([name, what]) => option(name, 1, needArg((kw) => `'${kw}' expects ${what} as argument.`))),
  ...['check-via-socks4', 'check-reuse-pool', 'no-check-reuse-pool', 'check-sni-auto', 'no-check-sni-auto'].map((name) => flag(name, () => {})),
];

/** The agent port a server ends with: `agent-port`, else `port` (HAProxy's SRV_F_AGENTPORT). */
export function agentPortOf(s: ServerSettings): number {
  return s.agentPort ?? s.checkPort ?? 0;
}
