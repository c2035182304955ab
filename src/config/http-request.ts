// `http-request <action> [args] [if|unless <cond>]` (http_rules.c, http_act.c, http_htx.c
// http_parse_http_reply). The core implements the `return` action; the other HAProxy actions
// are recognised and refused as not supported yet, and later features register theirs.

import type { HttpRequestRule } from './model.js';
import { HTTP_REQUEST_UNSUPPORTED, actionBaseName, notSupportedYet } from './known-keywords.js';
import { acceptCondition } from './proxy-keywords.js';
import {
  findHttpRequestAction,
  registerHttpRequestActions,
  registerProxyKeywords,
  registeredNames,
  RuleError,
  suggest,
  type HttpRuleContext,
  type ProxyContext,
} from './registry.js';
import { conditionFrom, proxyTypeStr } from './state.js';
import { atol } from './units.js';

/** Parses the arguments of `return` (http_parse_http_reply with a default status of 200). */
function parseReturn(ctx: HttpRuleContext): { rule: HttpRequestRule; next: number } {
  const { args, report } = ctx;
  let status = 200;
  let contentType: string | undefined;
  let body: string | undefined;
  let payloadArg: string | undefined;
  const headers: Array<[string, string]> = [];
  let cur = ctx.cur;
  const expect = (what: string): string => {
    const v = args[cur + 1];
    if (v === undefined) throw new RuleError(`'${args[cur]}' expects ${what} as argument`);
    return v;
  };
  const payload = (word: string): void => {
    if (payloadArg !== undefined) throw new RuleError(`unexpected '${word}' argument, '${payloadArg}' already defined`);
    payloadArg = word;
  };
  for (;;) {
    const w = args[cur];
    if (w === 'status') {
      status = atol(expect('<status_code>'));
      if (status < 200 || status > 599) throw new RuleError(`Unexpected status code '${status}'`);
      cur += 2;
    } else if (w === 'content-type') {
      contentType = expect('<ctype>');
      cur += 2;
    } else if (w === 'string') {
      payload(w);
      body = expect('<str>');
      cur += 2;
    } else if (w === 'errorfile' || w === 'errorfiles' || w === 'default-errorfiles' || w === 'file' || w === 'lf-file' || w === 'lf-string') {
      throw new RuleError(notSupportedYet(`'${w}' in 'http-request return'`).replace(/\.$/, ''));
    } else if (w === 'hdr') {
      const name = args[cur + 1];
      const value = args[cur + 2];
      if (name === undefined || value === undefined) throw new RuleError("'hdr' expects <name> and <value> as arguments");
      const lname = name.toLowerCase();
      if (lname === 'content-length' || lname === 'transfer-encoding' || lname === 'content-type') {
        report.warning(`header '${name}' always ignored by the http reply.`);
      } else {
        headers.push([name, plainLogFormat(value)]);
      }
      cur += 3;
    } else {
      break;
    }
  }
  if (body === undefined) {
    if (contentType !== undefined) {
      report.warning(`content-type '${contentType}' ignored by the http reply because neither errorfile nor payload defined.`);
      contentType = undefined;
    }
  } else {
    if ((status === 204 || status === 304) && body.length > 0) throw new RuleError(`No body expected for ${status} responses`);
    if (contentType === undefined && body.length > 0) {
      throw new RuleError('a content type must be defined when non-empty payload is configured');
    }
    if (contentType !== undefined && body.length === 0) {
      report.warning(`content-type '${contentType}' ignored by the http reply when used with an empty payload.`);
      contentType = undefined;
    }
  }
  const rule: HttpRequestRule = { action: 'return', status, headers, loc: ctx.loc };
  if (contentType !== undefined) rule.contentType = contentType;
  if (body !== undefined) rule.body = body;
  return { rule, next: cur };
}

/**
 * Header values of `return` are log-format strings. Until log-format expressions can be
 * evaluated there, only plain text is accepted, with "%%" standing for '%'.
 */
function plainLogFormat(value: string): string {
  if (/%(?!%)/.test(value.replace(/%%/g, ''))) {
    throw new RuleError(notSupportedYet(`log-format expressions in header values ('${value}')`, true).replace(/\.$/, ''));
  }
  return value.replace(/%%/g, '%');
}

function allActionNames(): string[] {
  const names = new Set([...registeredNames('http-request'), ...HTTP_REQUEST_UNSUPPORTED]);
  return [...names];
}

function parseHttpRequest(ctx: ProxyContext): void {
  const { args, report, proxy } = ctx;
  const rules = proxy.httpRequestRules;
  const last = rules[rules.length - 1];
  // `return` is final: without a condition, no later rule can run.
  if (last && !last.cond && last.action === 'return') {
    report.warning("previous 'http-request' action is final and has no condition attached, further entries are NOOP.", 'parsing:');
  }
  const action = args[1] ?? '';
  const def = findHttpRequestAction(action);
  if (!def) {
    if (HTTP_REQUEST_UNSUPPORTED.has(actionBaseName(action)) || action.startsWith('lua.')) {
      report.alert(notSupportedYet(`'http-request ${actionBaseName(action)}'`));
      return;
    }
    const names = allActionNames();
    const best = action === '' ? undefined : suggest(action, names);
    report.alert(
      `'http-request' expects ${names.map((n) => `'${n}'`).join(', ')}, but got '${action}'${action === '' ? ' (missing argument)' : ''}.${best ? ` Did you mean '${best}' maybe ?` : ''}`,
      'parsing:',
    );
    return;
  }
  let parsed: { rule: HttpRequestRule; next: number } | undefined;
  try {
    parsed = def.parse({ ...ctx, cur: 2 });
  } catch (e) {
    if (!(e instanceof RuleError)) throw e;
    report.alert(`error detected in ${proxyTypeStr(proxy)} '${proxy.name}' while parsing 'http-request ${action}' rule : ${e.message}.`);
    return;
  }
  if (!parsed) return;
  const { rule, next } = parsed;
  const cond = conditionFrom(args, next, ctx.loc);
  if (!cond && args[next] !== undefined) {
    report.alert(`'http-request ${action}' expects either 'if' or 'unless' followed by a condition but found '${args[next]}'.`, 'parsing:');
    return;
  }
  if (cond) rule.cond = cond;
  if (proxy.useBackends.length > 0) {
    report.warning("a 'http-request' rule placed after a 'use_backend' rule will still be processed before.");
  }
  rules.push(rule);
  acceptCondition(ctx, cond, `http-request ${ctx.args[1] ?? ''}`);
}

registerHttpRequestActions([{ name: 'return', parse: parseReturn }]);

registerProxyKeywords([{ name: 'http-request', cap: 'any', inDefaults: 'named', parse: parseHttpRequest }]);
