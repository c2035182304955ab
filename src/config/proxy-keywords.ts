// General keywords of defaults, frontend, backend and listen sections (cfgparse-listen.c,
// proxy.c): mode, id, description, disabled/enabled, maxconn, fullconn, retries, retry-on, timeout,
// default_backend, use_backend, http-reuse, bind-process.

import { RetryOn, retryStatusFlag, type ConditionSpec, type Timeouts } from './model.js';
import { notSupportedYet } from './known-keywords.js';
import { Place } from '../acl/index.js';
import { getAclLineChecker, getConditionChecker, registerProxyKeywords, type ProxyContext } from './registry.js';
import { lenientInt, timeErrorMessage, tooManyArgs, warnTrailing } from './helpers.js';
import { conditionFrom, proxyTypeStr } from './state.js';
import { atol, parseTimeValue } from './units.js';

/** `timeout <name>` names, their model field and the side of the proxy they apply to. */
const TIMEOUTS: Record<string, { field: keyof Timeouts; cap: 'fe' | 'be' | 'any' }> = {
  client: { field: 'client', cap: 'fe' },
  tarpit: { field: 'tarpit', cap: 'any' },
  'http-keep-alive': { field: 'httpKeepAlive', cap: 'any' },
  'http-request': { field: 'httpRequest', cap: 'any' },
  server: { field: 'server', cap: 'be' },
  connect: { field: 'connect', cap: 'be' },
  check: { field: 'check', cap: 'be' },
  queue: { field: 'queue', cap: 'be' },
  tunnel: { field: 'tunnel', cap: 'be' },
  'client-fin': { field: 'clientFin', cap: 'fe' },
  'server-fin': { field: 'serverFin', cap: 'be' },
};

/**
 * Applies a rule condition evaluated at `where` (the ACL engine's Place bits): checked by the ACL
 * engine when one is registered, otherwise refused as not supported yet (the tokens are kept in
 * the model either way). Returns false on error.
 */
export function acceptCondition(ctx: ProxyContext, cond: ConditionSpec | undefined, what: string, where?: number): boolean {
  if (!cond) return true;
  const checker = getConditionChecker();
  if (!checker) {
    ctx.report.alert(notSupportedYet(`conditions ('${cond.polarity} ...') on '${what}' rules`, true));
    return false;
  }
  const err = checker(cond, ctx, where);
  if (typeof err === 'object') {
    ctx.report.warning(err.warning);
  } else if (err !== undefined) {
    // HAProxy's wording names the rule: "switching rule", "an 'http-request return' condition".
    const subject = what === 'use_backend' || what === 'use-server' ? 'switching rule' : `an '${what}' condition`;
    ctx.report.alert(`error detected while parsing ${subject} : ${err}.`);
    return false;
  }
  return true;
}

function parseTimeout(ctx: ProxyContext): void {
  const { args, proxy, report } = ctx;
  const name = args[1] ?? '';
  if (name === 'client-hs') {
    report.alert(notSupportedYet("'timeout client-hs'"));
    return;
  }
  const t = TIMEOUTS[name];
  if (!t) {
    report.alert(
      `'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '${name}')`,
    );
    return;
  }
  const text = args[2];
  if (text === undefined) {
    report.alert(`'timeout ${name}' expects an integer value (in milliseconds)`);
    return;
  }
  const r = parseTimeValue(text);
  if (!r.ok) {
    report.alert(timeErrorMessage(r, text, `timeout ${name}`, 'quoted'));
    return;
  }
  warnTrailing(ctx, r, text);
  const hasCap = t.cap === 'any' || (t.cap === 'fe' ? proxy.fe : proxy.be);
  if (!hasCap) {
    report.warning(
      `'timeout ${name}' will be ignored because ${proxyTypeStr(proxy)} '${proxy.name}' has no ${t.cap === 'be' ? 'backend' : 'frontend'} capability`,
    );
  } else if (proxy.from && proxy.timeouts[t.field] !== proxy.from.timeouts[t.field]) {
    report.warning(`overwriting 'timeout ${name}' which was already specified`);
  }
  if (args.length > 3) {
    report.alert(`'timeout ${name}' : unexpected extra argument '${args[3]}' after value '${text}'.`);
    return;
  }
  // 0 means "no timeout" in HAProxy, which the model writes as "not set".
  if (r.value === 0) delete proxy.timeouts[t.field];
  else proxy.timeouts[t.field] = r.value;
}

const RETRY_WORDS = new Map<string, number>([
  ['none', 0],
  ['conn-failure', RetryOn.ConnFailure],
  ['empty-response', RetryOn.EmptyResponse],
  ['junk-response', RetryOn.JunkResponse],
  ['response-timeout', RetryOn.ResponseTimeout],
  ['0rtt-rejected', RetryOn.ZeroRttRejected],
  [
    'all-retryable-errors',
    RetryOn.ConnFailure | RetryOn.EmptyResponse | RetryOn.JunkResponse | RetryOn.ResponseTimeout | RetryOn.ZeroRttRejected |
      retryStatusFlag(500) | retryStatusFlag(502) | retryStatusFlag(503) | retryStatusFlag(504),
  ],
]);

registerProxyKeywords([
  {
    name: 'mode',
    cap: 'any',
    inDefaults: true,
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      const m = ctx.args[1] ?? '';
      if (m === 'http' || m === 'tcp') ctx.proxy.mode = m;
      else if (m === 'health') ctx.report.alert("'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead.");
      else ctx.report.alert(`unknown proxy mode '${m}'.`);
    },
  },
  {
    name: 'id',
    cap: 'any',
    inDefaults: false,
    defaultsAlert: 'parsing:',
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      const v = ctx.args[1];
      if (v === undefined) {
        ctx.report.alert("'id' expects an integer argument.", 'parsing:');
        return;
      }
      const id = atol(v);
      if (id <= 0) {
        ctx.report.alert('custom id has to be > 0.', 'parsing:');
        return;
      }
      const p = ctx.proxy;
      const other = ctx.state.proxies.find((x) => x !== p && x.forcedId === id);
      if (other) {
        ctx.report.alert(
          `${proxyTypeStr(p)} ${p.name} reuses same custom id as ${proxyTypeStr(other)} ${other.name} (declared at ${other.loc.file}:${other.loc.line}).`,
          'parsing:',
        );
        return;
      }
      p.forcedId = id;
    },
  },
  {
    name: 'description',
    cap: 'any',
    inDefaults: false,
    defaultsAlert: 'parsing:',
    parse(ctx) {
      // Shown on the statistics page in HAProxy; sluice has no place for it yet.
      if (ctx.args[1] === undefined) ctx.report.alert("'description' expects a string argument.", 'parsing:');
    },
  },
  {
    name: 'disabled',
    cap: 'any',
    inDefaults: true,
    parse(ctx) {
      if (!tooManyArgs(ctx, 0)) ctx.proxy.disabled = true;
    },
  },
  {
    name: 'enabled',
    cap: 'any',
    inDefaults: true,
    parse(ctx) {
      if (!tooManyArgs(ctx, 0)) ctx.proxy.disabled = false;
    },
  },
  {
    name: 'maxconn',
    cap: 'fe',
    capHint: " Maybe you want 'fullconn' instead ?",
    inDefaults: true,
    parse(ctx) {
      const v = ctx.args[1];
      if (v === undefined) {
        ctx.report.alert("'maxconn' expects an integer argument.");
        return;
      }
      ctx.proxy.maxconn = lenientInt(ctx, v);
      tooManyArgs(ctx, 1);
    },
  },
  {
    name: 'fullconn',
    cap: 'be',
    capHint: " Maybe you want 'maxconn' instead ?",
    inDefaults: true,
    parse(ctx) {
      const v = ctx.args[1];
      if (v === undefined) {
        ctx.report.alert("'fullconn' expects an integer argument.");
        return;
      }
      ctx.proxy.fullconn = lenientInt(ctx, v);
      tooManyArgs(ctx, 1);
    },
  },
  {
    name: 'retries',
    cap: 'be',
    inDefaults: true,
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      const v = ctx.args[1];
      if (v === undefined) {
        ctx.report.alert("'retries' expects an integer argument (dispatch counts for one).");
        return;
      }
      ctx.proxy.retries = lenientInt(ctx, v);
    },
  },
  {
    // Each line replaces the previous one (not cumulative), as HAProxy.
    name: 'retry-on',
    cap: 'any',
    inDefaults: true,
    parse(ctx) {
      const words = ctx.args.slice(1);
      if (words.length === 0) {
        ctx.report.alert("'retry-on' needs at least one keyword to specify when to retry");
        return;
      }
      if (!ctx.proxy.be) {
        ctx.report.alert("'retry-on' only available in backend or listen section");
        return;
      }
      let flags = 0;
      for (const w of words) {
        const f = RETRY_WORDS.get(w) ?? (/^\d{3}$/.test(w) ? retryStatusFlag(Number(w)) : 0);
        if (w === 'none') {
          if (words.length > 1) {
            ctx.report.alert("'retry-on' 'none' keyworld only usable alone");
            return;
          }
        } else if (f === 0) {
          ctx.report.alert(`'retry-on': unknown keyword '${w}'`);
          return;
        }
        flags |= f;
      }
      ctx.proxy.retryOn = flags;
    },
  },
  {
    name: 'timeout',
    cap: 'any',
    inDefaults: true,
    parse: parseTimeout,
  },
  {
    // The ACL engine compiles the definition when a condition uses it (names are checked there).
    name: 'acl',
    cap: 'any',
    inDefaults: false,
    parse(ctx) {
      const [, name, ...args] = ctx.args;
      if (name === undefined || args.length === 0) {
        ctx.report.alert("'acl' expects an ACL name and a fetch method.");
        return;
      }
      if (!/^[A-Za-z0-9_.:-]+$/.test(name)) {
        ctx.report.alert(`'acl' : ACL name '${name}' contains invalid character.`);
        return;
      }
      const err = getAclLineChecker()?.(name, args, ctx);
      if (err !== undefined) {
        ctx.report.alert(err);
        return;
      }
      ctx.proxy.acls.push({ name, args, loc: ctx.loc });
    },
  },
  {
    name: 'default_backend',
    cap: 'fe',
    inDefaults: true,
    parse(ctx) {
      const v = ctx.args[1];
      if (v === undefined) {
        ctx.report.alert("'default_backend' expects a backend name.");
        return;
      }
      ctx.proxy.defaultBackend = { name: v, loc: ctx.loc };
      tooManyArgs(ctx, 1);
    },
  },
  {
    name: 'use_backend',
    cap: 'fe',
    inDefaults: false,
    parse(ctx) {
      const { args, report } = ctx;
      const name = args[1];
      if (name === undefined) {
        report.alert("'use_backend' expects a backend name.");
        return;
      }
      const cond = conditionFrom(args, 2, ctx.loc);
      if (!cond && args[2] !== undefined) {
        report.alert(`unexpected keyword '${args[2]}' after switching rule, only 'if' and 'unless' are allowed.`);
        return;
      }
      // A dynamic name (a log-format string) is checked with the whole configuration, as HAProxy does.
      const rule = cond ? { backend: name, cond, loc: ctx.loc } : { backend: name, loc: ctx.loc };
      // The rule is kept even when refused, so that the model shows what was written.
      ctx.proxy.useBackends.push(rule);
      acceptCondition(ctx, cond, 'use_backend', Place.FeSetBck);
    },
  },
  {
    name: 'http-reuse',
    cap: 'be',
    inDefaults: true,
    parse(ctx) {
      const m = ctx.args[1];
      if (m === 'never' || m === 'safe' || m === 'aggressive' || m === 'always') {
        ctx.proxy.httpReuse = m;
        tooManyArgs(ctx, 0, 1);
        return;
      }
      ctx.report.alert("'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.");
    },
  },
  {
    name: 'bind-process',
    cap: 'any',
    inDefaults: true,
    parse(ctx) {
      ctx.report.warning("'bind-process' has no effect, is deprecated, and will be removed in version 2.7.", 'parsing:');
    },
  },
]);
