// `server <name> <addr> [options]` and `default-server [options]` (server.c parse_server).
// A server starts from the proxy's default-server settings as they are when the server line is
// read. Health-check keywords are accepted and kept in rawArgs for the health-check feature.

import { parseAddress } from './address.js';
import { SERVER_UNSUPPORTED, notSupportedYet } from './known-keywords.js';
import {
  findServerOption,
  registerProxyKeywords,
  registerServerOptions,
  registeredNames,
  suggest,
  type ProxyContext,
  type ServerOptionContext,
  type ServerOptionDef,
} from './registry.js';
import { invalidChar, proxyTypeStr, type ServerDraft, type ServerSettings } from './state.js';
import { atol, parseTimeValue } from './units.js';

const SRV_UWGHT_MAX = 256;

function srvName(ctx: ServerOptionContext): string {
  return ctx.server?.name ?? '(null)';
}

function needArg(msg: (kw: string) => string): ServerOptionDef['parse'] {
  return (ctx) => (ctx.args[ctx.cur + 1] === undefined ? msg(ctx.args[ctx.cur]) : undefined);
}

/** A check delay (inter, fastinter, downinter, agent-inter): validated and kept raw. */
const DELAY_FIELD: Record<string, 'checkInter' | 'checkFastinter' | 'checkDowninter' | undefined> = {
  inter: 'checkInter',
  fastinter: 'checkFastinter',
  downinter: 'checkDowninter',
};

function delayOption(name: string): ServerOptionDef {
  return {
    name,
    args: 1,
    defaultOk: true,
    parse(ctx) {
      const v = ctx.args[ctx.cur + 1];
      if (v === undefined) return `'${name}' expects a delay as argument.`;
      const r = parseTimeValue(v);
      if (!r.ok) {
        if (r.error === 'overflow') return `timer overflow in argument <${v}> to <${name}> of server ${srvName(ctx)}, maximum value is 2147483647 ms (~24.8 days).`;
        if (r.error === 'underflow') return `timer underflow in argument <${v}> to <${name}> of server ${srvName(ctx)}, minimum non-null value is 1 ms.`;
        return `unexpected character '${r.char}' in '${name}' argument of server ${srvName(ctx)}.`;
      }
      if (r.value <= 0) return `invalid value ${r.value} for argument '${name}' of server ${srvName(ctx)}.`;
      const field = DELAY_FIELD[name];
      if (field !== undefined) ctx.target[field] = r.value;
      return undefined;
    },
  };
}

/** Keywords of health checks and agents, implemented by the health-check feature. */
const CHECK_OPTIONS: ServerOptionDef[] = [
  ...['inter', 'fastinter', 'downinter', 'agent-inter'].map(delayOption),
  ...['rise', 'fall'].map(
    (name): ServerOptionDef => ({
      name,
      args: 1,
      defaultOk: true,
      parse(ctx) {
        const v = ctx.args[ctx.cur + 1];
        if (v === undefined) return `'${name}' expects an integer argument.`;
        if (atol(v) <= 0) return `'${name}' has to be > 0.`;
        if (name === 'rise') ctx.target.checkRise = atol(v);
        else ctx.target.checkFall = atol(v);
        return undefined;
      },
    }),
  ),
  {
    name: 'slowstart',
    args: 1,
    defaultOk: true,
    parse(ctx) {
      const v = ctx.args[ctx.cur + 1];
      if (v === undefined) return "'slowstart' expects <value> as argument.";
      const r = parseTimeValue(v);
      if (!r.ok) return r.error === 'char' ? `unexpected character '${r.char}' in 'slowstart' argument of server ${srvName(ctx)}.` : `invalid 'slowstart' value '${v}'.`;
      return undefined;
    },
  },
  ...[
    ['port', 'a port number'],
    ['agent-port', 'a port number'],
    ['addr', 'an address'],
    ['agent-addr', 'an address'],
    ['agent-send', 'a string'],
    ['check-sni', 'a hostname'],
    ['check-alpn', 'a protocol list'],
    ['check-proto', 'a protocol name'],
    ['check-pool-conn-name', 'a name'],
    ['observe', 'a mode'],
    ['on-error', 'an action'],
    ['on-marked-down', 'an action'],
    ['on-marked-up', 'an action'],
    ['error-limit', 'an integer'],
    ['pool-low-conn', 'a value'],
  ].map(
    ([name, what]): ServerOptionDef => {
      const need = needArg((kw) => `'${kw}' expects ${what} as argument.`);
      if (name !== 'port') return { name, args: 1, defaultOk: true, parse: need };
      return {
        name,
        args: 1,
        defaultOk: true,
        parse(ctx) {
          const err = need(ctx);
          if (err !== undefined) return err;
          const n = atol(ctx.args[ctx.cur + 1]!);
          if (n < 1 || n > 65535) return `'port' expects ${what} as argument.`;
          ctx.target.checkPort = n;
          return undefined;
        },
      };
    },
  ),
  ...[
    'agent-check',
    'no-agent-check',
    'check-send-proxy',
    'no-check-send-proxy',
    'check-ssl',
    'no-check-ssl',
    'check-via-socks4',
    'check-reuse-pool',
    'no-check-reuse-pool',
    'check-sni-auto',
    'no-check-sni-auto',
  ].map((name): ServerOptionDef => ({ name, args: 0, defaultOk: true, parse: () => undefined })),
];

function flag(name: string, apply: (t: ServerSettings) => void, defaultOk = true): ServerOptionDef {
  return {
    name,
    args: 0,
    defaultOk,
    parse(ctx) {
      apply(ctx.target);
      return undefined;
    },
  };
}

/** A keyword taking one integer, read the way HAProxy's atol does (no check). */
function integer(name: string, apply: (t: ServerSettings, n: number) => void): ServerOptionDef {
  return {
    name,
    args: 1,
    defaultOk: true,
    parse(ctx) {
      apply(ctx.target, atol(ctx.args[ctx.cur + 1] ?? ''));
      return undefined;
    },
  };
}

registerServerOptions([
  {
    name: 'weight',
    args: 1,
    defaultOk: true,
    parse(ctx) {
      const w = atol(ctx.args[ctx.cur + 1] ?? '');
      if (w < 0 || w > SRV_UWGHT_MAX) return `weight of server ${srvName(ctx)} is not within 0 and ${SRV_UWGHT_MAX} (${w}).`;
      ctx.target.weight = w;
      return undefined;
    },
  },
  flag('backup', (t) => (t.backup = true)),
  flag('no-backup', (t) => (t.backup = false)),
  flag('disabled', (t) => (t.disabled = true)),
  flag('enabled', (t) => (t.disabled = false), false),
  flag('check', (t) => (t.check = true)),
  flag('no-check', (t) => (t.check = false), false),
  integer('maxconn', (t, n) => (t.maxconn = n)),
  integer('maxqueue', (t, n) => (t.maxqueue = n)),
  {
    name: 'pool-max-conn',
    args: 1,
    defaultOk: true,
    parse(ctx) {
      const v = ctx.args[ctx.cur + 1];
      if (v === undefined) return "'pool-max-conn' expects <value> as argument.";
      const n = atol(v) | 0;
      if (n < -1) return "'pool-max-conn' must be >= -1";
      ctx.target.poolMaxConn = n;
      return undefined;
    },
  },
  {
    name: 'pool-purge-delay',
    args: 1,
    defaultOk: true,
    parse(ctx) {
      const v = ctx.args[ctx.cur + 1];
      if (v === undefined) return "'pool-purge-delay' expects <value> as argument.";
      const r = parseTimeValue(v);
      if (!r.ok) {
        if (r.error === 'overflow') return `timer overflow in argument '${v}' to 'pool-purge-delay' (maximum value is 2147483647 ms or ~24.8 days)`;
        if (r.error === 'underflow') return `timer underflow in argument '${v}' to 'pool-purge-delay' (minimum non-null value is 1 ms)`;
        return `unexpected character '${r.char}' in argument to <pool-purge-delay>.`;
      }
      ctx.target.poolPurgeDelay = r.value;
      return undefined;
    },
  },
  {
    name: 'proto',
    args: 1,
    defaultOk: true,
    parse(ctx) {
      const v = ctx.args[ctx.cur + 1];
      if (v === undefined) return "'proto' expects a protocol name as argument.";
      if (v !== 'h1' && v !== 'h2') return `'proto' : unknown MUX protocol '${v}'`;
      ctx.target.proto = v;
      return undefined;
    },
  },
  {
    name: 'max-reuse',
    args: 1,
    defaultOk: true,
    parse(ctx) {
      const v = ctx.args[ctx.cur + 1];
      if (v === undefined) return "'max-reuse' expects <value> as argument.";
      ctx.target.maxReuse = atol(v) | 0;
      return undefined;
    },
  },
  {
    name: 'id',
    args: 1,
    defaultOk: false,
    parse(ctx) {
      const v = ctx.args[ctx.cur + 1];
      if (v === undefined) return "'id' : expects an integer argument";
      const id = atol(v);
      if (id <= 0) return "'id' : custom id has to be > 0";
      const other = ctx.proxy.servers.find((s) => s !== ctx.server && s.forcedId === id);
      if (other) return `'id' : custom id ${id} already used at ${other.loc.file}:${other.loc.line} ('server ${other.name}')`;
      if (ctx.server) ctx.server.forcedId = id;
      return undefined;
    },
  },
  ...CHECK_OPTIONS,
]);

/** Parses a server or default-server line (server.c parse_server). */
function parseServer(ctx: ProxyContext, isDefault: boolean): void {
  const { args, proxy, loc } = ctx;
  const at = `parsing [${loc.file}:${loc.line}] : `;
  const report = (msg: string, soft = false): void => (soft ? ctx.report.softAlert(msg, 'context') : ctx.report.alert(msg, 'context'));
  if (!proxy.be) {
    report(`${at}'${args[0]}' not allowed because ${proxyTypeStr(proxy)} '${proxy.name}' has no backend capability.`);
    return;
  }
  let target: ServerSettings;
  let server: ServerDraft | undefined;
  let cur = 1;
  if (!isDefault) {
    if (args[2] === undefined) {
      report("'server' expects <name> and <addr>[:<port>] as arguments.");
      return;
    }
    const name = args[1];
    const bad = invalidChar(name);
    if (bad !== undefined) {
      report(`character '${bad}' is not permitted in server name '${name}'.`);
      return;
    }
    const ctxName = `'server ${proxy.name}/${name}' : `;
    const r = parseAddress(args[2], { portOk: true, portMandatory: false, portRange: false, portOffset: true }, ctx.state.env);
    if (!r.ok) {
      report(ctxName + r.error);
      return;
    }
    const a = r.addr;
    if (a.kind !== 'inet') {
      report(ctxName + notSupportedYet(`servers on ${a.kind === 'unix' ? 'UNIX sockets' : `'${a.kind}@' addresses`} ('${args[2]}')`, true));
      return;
    }
    if (a.portMode === 'offset') {
      report(ctxName + notSupportedYet(`port offsets ('${args[2]}')`, true));
      return;
    }
    if (a.fqdn?.startsWith('_')) {
      report(ctxName + notSupportedYet(`DNS SRV records ('${a.fqdn}')`, true));
      return;
    }
    const d = proxy.defaultServer;
    server = { ...d, rawArgs: [...d.rawArgs, ...args.slice(3)], name, addr: a, loc };
    target = server;
    cur = 3;
  } else {
    target = proxy.defaultServer;
    target.rawArgs = [...target.rawArgs, ...args.slice(1)];
  }

  const prefix = server ? `'server ${proxy.name}/${server.name}' : ` : '';
  while (cur < args.length) {
    const word = args[cur];
    const def = findServerOption(word);
    if (def) {
      if (isDefault && !def.defaultOk) {
        report(`${prefix}'${word}' option is not accepted in default-server sections`, true);
        cur += 1 + def.args;
        continue;
      }
      const err = def.parse({ ...ctx, target, isDefault, cur, ...(server ? { server } : {}) });
      if (err !== undefined) {
        // Further lines are alerts HAProxy prints after it, without a location.
        const [first, ...more] = err.split('\n');
        report(`${prefix}${first}.`);
        for (const m of more) ctx.report.alert(m, 'none');
        return;
      }
      cur += 1 + def.args;
      continue;
    }
    const skip = SERVER_UNSUPPORTED[word];
    if (skip !== undefined) {
      report(`${prefix}${notSupportedYet(`'${word}'`)}`);
      if (skip < 0) return;
      cur += 1 + skip;
      continue;
    }
    const hint = isDefault ? ' Hint: no address was expected for this server.' : '';
    const best = suggest(word, [...registeredNames('server'), ...Object.keys(SERVER_UNSUPPORTED)]);
    report(`${prefix}unknown keyword '${word}'${best ? `; did you mean '${best}' maybe ?${hint}` : `.${hint}`}`);
    return;
  }
  if (server) proxy.servers.push(server);
}

registerProxyKeywords([
  { name: 'server', cap: 'any', inDefaults: false, defaultsAlert: 'context', parse: (ctx) => parseServer(ctx, false) },
  { name: 'default-server', cap: 'any', inDefaults: true, parse: (ctx) => parseServer(ctx, true) },
]);
