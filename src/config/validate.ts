// Checks across sections, run once every file was read without fatal error (cfgparse.c
// check_config_validity): backend references, modes, duplicate servers, missing timeouts,
// HTTP-only settings in TCP proxies. Also applies HAProxy's check-time adjustments to the drafts
// (TCP fallbacks, timeout inheritance), so that the model shows what will really run.

import { notSupportedYet } from './known-keywords.js';
import { balanceNeedsHttp } from './balance.js';
import { TCP_LOG_FORMAT, tcpFallback } from './logs.js';
import { HTTP_ONLY_OPTIONS } from './options.js';
import { Place } from '../acl/index.js';
import { checkLogFormatAt, runPostChecks } from './registry.js';
import { proxyTypeStr, type ParserState, type ProxyDraft } from './state.js';

/** Runs the check-time validation; diagnostics go to state.diags. */
export function validateConfig(state: ParserState): void {
  const diags = state.diags;
  let bufsizeReported = false;
  for (const p of state.proxies) {
    if (p.mode === 'http' && state.global.tune.bufsize >= 256 << 20 && !bufsizeReported) {
      diags.alert(`global.tune.bufsize must be below 256 MB when HTTP is in use (current value = ${state.global.tune.bufsize}).`);
      bufsizeReported = true;
    }
    if (p.disabled) continue;
    if (p.mode === 'tcp') ensureNoHttp(state, p);
    if (p.fe && p.binds.length === 0) {
      diags.warning(`${proxyTypeStr(p)} '${p.name}' has no 'bind' directive. Please declare it as a backend if this was intended.`);
    }
    checkBackendRefs(state, p);
    checkServerRuleFormats(state, p);
    checkTimeouts(state, p);
    checkServerNames(state, p);
    checkLogFormat(state, p);
    if (p.fe && p.logs.length === 0 && p.logFormat !== undefined) {
      diags.warning(`log format ignored for ${proxyTypeStr(p)} '${p.name}' since it has no log address.`);
    }
    if (p.mode !== 'http') dropHttpOnly(state, p);
  }
  runPostChecks(state);
}

/** HAProxy's proxy_cfg_ensure_no_http(): TCP proxies fall back from HTTP-only settings. */
function ensureNoHttp(state: ParserState, p: ProxyDraft): void {
  if (p.be && balanceNeedsHttp(p.balance)) {
    p.balance = { algo: 'roundrobin' };
    state.diags.warning(`Layer 7 hash not possible for ${proxyTypeStr(p)} '${p.name}' (needs 'mode http'). Falling back to round robin.`);
  }
  if (tcpFallback(p)) {
    const origin = 'option httplog';
    p.logFormat = TCP_LOG_FORMAT;
    p.options.httplog = false;
    p.options.httplogClf = false;
    p.options.tcplog = true;
    state.diags.warning(
      `'${origin}' not usable with ${proxyTypeStr(p)} '${p.name}' (needs 'mode http'). Falling back to 'option tcplog'.`,
      p.logFormatLoc,
    );
    p.logFormatOrigin = 'option tcplog';
  }
}

function checkBackendRefs(state: ParserState, p: ProxyDraft): void {
  const diags = state.diags;
  const findBe = (name: string): ProxyDraft | undefined => state.proxies.find((x) => x.be && x.name === name);
  const modeOk = (target: ProxyDraft): boolean => target.mode === p.mode || (p.mode === 'tcp' && target.mode === 'http');
  const where = (x: ProxyDraft): string => `${x.loc.file}:${x.loc.line}`;
  if (p.defaultBackend) {
    const name = p.defaultBackend.name;
    const target = findBe(name);
    if (!target) {
      diags.alert(`Proxy '${p.name}': unable to find required default_backend: '${name}'.`);
    } else if (target === p) {
      diags.alert(`Proxy '${p.name}': loop detected for default_backend: '${name}'.`);
    } else if (!modeOk(target)) {
      diags.alert(
        `${p.mode} ${proxyTypeStr(p)} '${p.name}' (${where(p)}) tries to use incompatible ${target.mode} ${proxyTypeStr(target)} '${target.name}' (${where(target)}) as its default backend (see 'mode').`,
      );
    } else if (p.servers.length > 0) {
      diags.warning(`In proxy '${p.name}', the 'default_backend' rule always has precedence over the servers, which will never be used.`);
    }
  }
  for (const rule of p.useBackends) {
    if (rule.backend.includes('%')) {
      // The name is a log-format string, evaluated on the request when the rule applies.
      const err = checkLogFormatAt(rule.backend, 'http', Place.FeHrqHdr);
      if (err !== undefined) {
        diags.alert(`Parsing [${rule.loc.file}:${rule.loc.line}]: failed to parse use_backend rule '${rule.backend}' : ${err}.`);
        continue;
      }
    }
    // A dynamic name is looked up per request; an unknown one falls back to default_backend.
    if (rule.backend.includes('%[')) continue;
    if (p.mode === 'tcp' && rule.cond) {
      // Conditions in TCP mode need tcp-request content inspection, which is not there yet.
      diags.alert(`parsing [${rule.loc.file}:${rule.loc.line}] : ${notSupportedYet("conditions on 'use_backend' rules in TCP frontends", true)}`);
      continue;
    }
    const target = findBe(rule.backend);
    if (!target) {
      diags.alert(`Proxy '${p.name}': unable to find required use_backend: '${rule.backend}'.`);
    } else if (target === p) {
      diags.alert(`Proxy '${p.name}': loop detected for use_backend: '${rule.backend}'.`);
    } else if (!modeOk(target)) {
      diags.alert(
        `${p.mode} ${proxyTypeStr(p)} '${p.name}' (${where(p)}) tries to use incompatible ${target.mode} ${proxyTypeStr(target)} '${target.name}' (${where(target)}) in a 'use_backend' rule (see 'mode').`,
      );
    }
  }
}

/** Dynamic `use-server` names: log-format strings evaluated on the request (frontend side, as HAProxy checks them). */
function checkServerRuleFormats(state: ParserState, p: ProxyDraft): void {
  for (const rule of p.useServers) {
    if (!rule.server.includes('%')) continue;
    const err = checkLogFormatAt(rule.server, 'http', Place.FeHrqHdr);
    if (err !== undefined) {
      state.diags.alert(`Parsing [${rule.loc.file}:${rule.loc.line}]; use-server rule failed to parse log-format '${rule.server}' : ${err}.`);
    }
  }
}

function checkServerNames(state: ParserState, p: ProxyDraft): void {
  const servers = p.servers;
  for (let i = 0; i < servers.length; i++) {
    const s = servers[i];
    // Like HAProxy, servers with a forced id are not compared by name.
    if (s.forcedId !== undefined) continue;
    const other = servers.slice(0, i).find((o) => o.forcedId === undefined && o.name === s.name);
    if (other) {
      state.diags.alert(
        `${proxyTypeStr(p)} '${p.name}', another server named '${s.name}' was already defined at line ${other.loc.line}, please use distinct names.`,
        s.loc,
      );
    }
  }
}

function checkTimeouts(state: ParserState, p: ProxyDraft): void {
  const t = p.timeouts;
  const missing =
    (p.fe && t.client === undefined) ||
    (p.be && p.servers.length > 0 && (t.connect === undefined || (t.server === undefined && (p.mode === 'http' || t.tunnel === undefined))));
  if (missing) {
    state.diags.warning(
      `missing timeouts for ${proxyTypeStr(p)} '${p.name}'.\n` +
        '   | While not properly invalid, you will certainly encounter various problems\n' +
        '   | with such a configuration. To fix this, please ensure that all following\n' +
        "   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
    );
  }
  // Historically, the tarpit and queue timeouts were taken from the connect timeout.
  if (t.tarpit === undefined && t.connect !== undefined) t.tarpit = t.connect;
  if (p.be && t.queue === undefined && t.connect !== undefined) t.queue = t.connect;
}

/** Custom log formats are compiled by the log feature when it provides a checker. */
function checkLogFormat(state: ParserState, p: ProxyDraft): void {
  if (!p.fe || p.logFormat === undefined || p.logFormatOrigin !== 'log-format') return;
  const err = checkLogFormatAt(p.logFormat, p.mode, Place.FeLogEnd);
  if (err === undefined) return;
  const at = p.logFormatLoc ? `${p.logFormatLoc.file}:${p.logFormatLoc.line}` : `${p.loc.file}:${p.loc.line}`;
  state.diags.alert(`Parsing [${at}]: failed to parse log-format : ${err}.`);
}

/** Settings that need HTTP are dropped, with a warning, from TCP proxies. */
function dropHttpOnly(state: ParserState, p: ProxyDraft): void {
  const diags = state.diags;
  const who = `${proxyTypeStr(p)} '${p.name}'`;
  const lists = [
    ['http-request', 'httpRequestRules'],
    ['http-response', 'httpResponseRules'],
    ['http-after-response', 'httpAfterResponseRules'],
  ] as const;
  for (const [kw, field] of lists) {
    if (p[field].length > 0 || (p.from?.[field].length ?? 0) > 0) {
      // The model leaves them out (finalize.ts), inherited ones included.
      diags.warning(`'${kw}' rules ignored for ${who} as they require HTTP mode.`);
    }
  }
  if (p.options.forwardfor) {
    diags.warning(`'option forwardfor' ignored for ${who} as it requires HTTP mode.`);
    delete p.options.forwardfor;
  }
  for (const [name, field] of HTTP_ONLY_OPTIONS) {
    const cap = name === 'http-ignore-probes' ? p.fe : true;
    if (cap && p.options[field]) {
      diags.warning(`'option ${name}' ignored for ${who} as it requires HTTP mode.`);
      p.options[field] = false;
    }
  }
}
