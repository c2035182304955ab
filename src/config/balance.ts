// `balance` and `hash-type` (backend.c backend_parse_balance, cfgparse-listen.c).

import type { BalanceConfig } from './model.js';
import { notSupportedYet } from './known-keywords.js';
import { registerProxyKeywords } from './registry.js';

/** Parses the words after `balance`; returns the algorithm or an error text. */
export function parseBalance(args: string[]): BalanceConfig | { error: string } {
  const algo = args[0];
  if (algo === undefined || algo === 'roundrobin') return { algo: 'roundrobin' };
  if (algo === 'static-rr') return { algo: 'static-rr' };
  if (algo === 'first') return { algo: 'first' };
  if (algo === 'leastconn') return { algo: 'leastconn' };
  if (algo === 'source') return { algo: 'source' };
  if (algo.startsWith('random')) {
    let draws = 2;
    if (algo[6] === '(' && algo[7] !== ')') {
      const m = /^([+-]?(?:0[xX][0-9a-fA-F]+|\d+))?(.*)$/s.exec(algo.slice(7));
      const num = m?.[1];
      const rest = m?.[2] ?? '';
      draws = num === undefined ? 0 : Number(num);
      if (!rest.startsWith(')')) {
        return { error: rest === '' ? 'random : missing closing parenthesis.' : `random : unexpected character '${rest[0]}' after argument.` };
      }
      if (draws < 1) return { error: 'random : number of draws must be at least 1.' };
    }
    // Like HAProxy, any other word starting with "random" means random with 2 draws.
    return { algo: 'random', draws };
  }
  if (algo === 'uri') {
    let len = 0;
    let depth = 0;
    let whole = false;
    let pathOnly = false;
    for (let i = 1; i < args.length; ) {
      const w = args[i];
      if (w === 'len' || w === 'depth') {
        const n = parseInt(args[i + 1] ?? '', 10);
        if (!(n > 0)) return { error: `uri : '${w}' expects a positive integer (got '${args[i + 1] ?? ''}').` };
        if (w === 'len') len = n;
        else depth = n;
        i += 2;
      } else if (w === 'whole') {
        whole = true;
        i++;
      } else if (w === 'path-only') {
        pathOnly = true;
        i++;
      } else {
        return { error: `uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '${w}').` };
      }
    }
    return { algo: 'uri', len, depth, whole, pathOnly };
  }
  if (algo === 'url_param') {
    const param = args[1];
    if (param === undefined) return { error: 'url_param requires an URL parameter name.' };
    if (args[2] !== undefined && args[2] !== 'check_post') {
      return { error: `url_param only accepts 'check_post' modifier (got '${args[2]}').` };
    }
    return { algo: 'url_param', param, checkPost: args[2] === 'check_post' };
  }
  if (algo.startsWith('hdr(')) {
    const end = algo.indexOf(')', 4);
    if (end <= 4) return { error: 'hdr requires an http header field name.' };
    if (args[1] !== undefined && args[1] !== 'use_domain_only') {
      return { error: `${algo} only accepts 'use_domain_only' modifier (got '${args[1]}').` };
    }
    return { algo: 'hdr', header: algo.slice(4, end), useDomainOnly: args[1] === 'use_domain_only' };
  }
  if (algo === 'hash' || algo.startsWith('rdp-cookie') || algo === 'log-hash' || algo === 'sticky') {
    return { error: notSupportedYet(`'balance ${algo}'`) };
  }
  return { error: unknownAlgo() };
}

function unknownAlgo(): string {
  return "only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.";
}

/** True for the algorithms that need HTTP (HAProxy falls back to roundrobin in TCP mode). */
export function balanceNeedsHttp(b: BalanceConfig): boolean {
  return b.algo === 'uri' || b.algo === 'url_param' || b.algo === 'hdr';
}

registerProxyKeywords([
  {
    name: 'balance',
    cap: 'be',
    inDefaults: true,
    parse(ctx) {
      const r = parseBalance(ctx.args.slice(1));
      if ('error' in r) {
        // "not supported yet" messages stand on their own; HAProxy's own ones follow "balance".
        ctx.report.alert(r.error.endsWith('by sluice.') ? r.error : `balance ${r.error}`);
        return;
      }
      ctx.proxy.balance = r;
    },
  },
  {
    name: 'hash-type',
    cap: 'be',
    inDefaults: true,
    parse(ctx) {
      const { args, report, proxy } = ctx;
      const method = args[1];
      if (method === 'avalanche') {
        report.alert("experimental feature 'hash-type avalanche' is not supported anymore, please use 'hash-type map-based sdbm avalanche' instead.");
        return;
      }
      if (method !== 'consistent' && method !== 'map-based') {
        report.alert("'hash-type' only supports 'consistent' and 'map-based'.");
        return;
      }
      const fn = args[2];
      if (fn === undefined) {
        // Consistent hashing defaults to sdbm with avalanche, map-based to plain sdbm.
        proxy.hashType = { method, fn: 'sdbm', avalanche: method === 'consistent' };
        return;
      }
      if (fn !== 'sdbm' && fn !== 'djb2' && fn !== 'wt6' && fn !== 'crc32' && fn !== 'none') {
        report.alert("'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.");
        return;
      }
      if (args[3] !== undefined && args[3] !== 'avalanche') {
        report.alert("'hash-type' only supports 'avalanche' as a modifier for hash functions.");
        return;
      }
      proxy.hashType = { method, fn, avalanche: args[3] === 'avalanche' };
    },
  },
]);
