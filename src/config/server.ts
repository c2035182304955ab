// `server <name> <addr> [options]` and `default-server [options]` (server.c parse_server).
// A server starts from the proxy's default-server settings as they are when the server line is
// read. Health-check keywords are in server-checks.ts; every keyword is also kept in rawArgs.

import { parseAddress } from './address.js';
import { SERVER_UNSUPPORTED, notSupportedYet } from './known-keywords.js';
import {
  findServerOption,
  registerPostCheck,
  registerProxyKeywords,
  registerServerOptions,
  registeredNames,
  suggest,
  type ProxyContext,
  type ServerOptionContext,
  type ServerOptionDef,
} from './registry.js';
import { agentPortOf, CHECK_OPTIONS, serverPrefix } from './server-checks.js';
import { invalidChar, proxyTypeStr, type ServerDraft, type ServerSettings } from './state.js';
import { atol, parseTimeValue } from './units.js';

const SRV_UWGHT_MAX = 256;

function srvName(ctx: ServerOptionContext): string {
  return ctx.server?.name ?? '(null)';
}

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
  flag('send-proxy', (t) => (t.sendProxyV1 = true)),
  flag('no-send-proxy', (t) => (t.sendProxyV1 = false)),
  flag('send-proxy-v2', (t) => (t.sendProxyV2 = true)),
  flag('no-send-proxy-v2', (t) => (t.sendProxyV2 = false)),
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
  if (server?.agentCheck && agentPortOf(server) === 0) {
    report(`${serverPrefix({ proxy, server })}server ${server.name} does not have agent port. Agent check has been disabled.`);
    return;
  }
  if (server) proxy.servers.push(server);
}

registerProxyKeywords([
  { name: 'server', cap: 'any', inDefaults: false, defaultsAlert: 'context', parse: (ctx) => parseServer(ctx, false) },
  { name: 'default-server', cap: 'any', inDefaults: true, parse: (ctx) => parseServer(ctx, true) },
]);

// The PROXY protocol header goes on clear-text HTTP/1 and TCP connections; before a TLS handshake
// or on a shared HTTP/2 connection it is not done yet: such lines are refused, not ignored.
registerPostCheck((state) => {
  for (const p of state.proxies) {
    for (const srv of p.servers) {
      if (srv.sendProxyV1 !== true && srv.sendProxyV2 !== true) continue;
      const kw = srv.sendProxyV2 === true ? 'send-proxy-v2' : 'send-proxy';
      const h2 = srv.proto === 'h2' || (srv.proto === undefined && srv.ssl?.enabled === true && srv.ssl.alpn?.includes('h2') === true);
      const other = srv.ssl?.enabled === true ? "'ssl'" : h2 ? 'HTTP/2 to the server' : null;
      if (other === null) continue;
      state.diags.alert(`'server ${p.name}/${srv.name}' : ${notSupportedYet(`'${kw}' together with ${other}`)}`, srv.loc, 'parsing');
    }
  }
});
