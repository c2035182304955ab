// Keywords of `resolvers <name>` sections (configuration.txt 5.3.2; resolvers.c
// cfg_parse_resolvers). They are validated now and kept for the DNS feature.

import { parseAddress } from './address.js';
import { notSupportedYet } from './known-keywords.js';
import { registerResolversKeywords, type ResolversContext } from './registry.js';
import { invalidChar } from './state.js';
import { parseTimeValue } from './units.js';

const DNS_HEADER_SIZE = 12;
const DNS_MAX_UDP_MESSAGE = 65535;
const HOLD_EVENTS = new Set(['nx', 'other', 'refused', 'timeout', 'valid', 'obsolete']);

function keep(ctx: ResolversContext): void {
  ctx.resolvers.settings.push({ keyword: ctx.args[0], args: ctx.args.slice(1), loc: ctx.loc });
}

/** Time argument with the wording of the resolvers section. */
function resolversTime(ctx: ResolversContext, text: string, what: string, shown = text): boolean {
  const r = parseTimeValue(text);
  if (r.ok) return true;
  if (r.error === 'overflow') {
    ctx.report.alert(`timer overflow in argument <${shown}> to <${what}>, maximum value is 2147483647 ms (~24.8 days).`, 'parsing:');
  } else if (r.error === 'underflow') {
    ctx.report.alert(`timer underflow in argument <${shown}> to <${what}>, minimum non-null value is 1 ms.`, 'parsing:');
  } else {
    ctx.report.alert(`unexpected character '${r.char}' in argument to <${what}>.`, 'parsing:');
  }
  return false;
}

registerResolversKeywords([
  {
    name: 'nameserver',
    parse(ctx) {
      const { args, report, resolvers } = ctx;
      if (args[2] === undefined) {
        report.alert("'nameserver' expects <name> and <addr>[:<port>] as arguments.");
        return;
      }
      const name = args[1];
      const bad = invalidChar(name);
      if (bad !== undefined) {
        report.alert(`character '${bad}' is not permitted in server name '${name}'.`);
        return;
      }
      const dup = resolvers.nameservers.find((n) => n.name === name);
      if (dup) {
        report.alert(
          `Parsing [${ctx.loc.file}:${ctx.loc.line}]: nameserver '${name}' has same name as another nameserver (declared at ${dup.loc.file}:${dup.loc.line}).`,
          'none',
        );
      }
      const r = parseAddress(args[2], { portOk: true, portMandatory: true, portRange: false, portOffset: false }, ctx.state.env);
      if (!r.ok) {
        report.alert(`'nameserver ${name}' : ${r.error}`);
        return;
      }
      if (r.addr.kind !== 'inet') {
        report.alert(`'nameserver ${name}' : ${notSupportedYet(`nameservers on '${args[2]}'`, true)}`);
        return;
      }
      if (r.addr.transport === 'stream') {
        report.alert(`'nameserver ${name}' : ${notSupportedYet(`DNS over TCP ('${args[2]}')`)}`);
        return;
      }
      if (args.length > 3) {
        report.alert(`'nameserver ${name}' : ${notSupportedYet(`nameserver options ('${args[3]}')`, true)}`);
        return;
      }
      resolvers.nameservers.push({ name, addr: r.addr, loc: ctx.loc });
    },
  },
  {
    name: 'parse-resolv-conf',
    parse(ctx) {
      ctx.resolvers.parseResolvConf = true;
    },
  },
  {
    name: 'hold',
    parse(ctx) {
      const { args, report } = ctx;
      if (args[2] === undefined) {
        report.alert("'hold' expects an <event> and a <time> as arguments.");
        ctx.state.diags.alert("<event> can be either 'valid', 'nx', 'refused', 'timeout', or 'other'");
        return;
      }
      // HAProxy names the event, not the value, in these messages.
      if (!resolversTime(ctx, args[2], 'hold', args[1])) return;
      if (!HOLD_EVENTS.has(args[1])) {
        report.alert(`'hold' unknown <event>: '${args[1]}', expects either 'nx', 'timeout', 'valid', 'obsolete' or 'other'.`);
        return;
      }
      keep(ctx);
    },
  },
  {
    name: 'accepted_payload_size',
    parse(ctx) {
      const v = ctx.args[1];
      if (v === undefined) {
        ctx.report.alert("'accepted_payload_size' expects <nb> as argument.");
        return;
      }
      const n = parseInt(v, 10) || 0;
      if (n < DNS_HEADER_SIZE || n > DNS_MAX_UDP_MESSAGE) {
        ctx.report.alert(`'accepted_payload_size' must be between ${DNS_HEADER_SIZE} and ${DNS_MAX_UDP_MESSAGE} inclusive (was ${v}).`);
        return;
      }
      keep(ctx);
    },
  },
  {
    name: 'resolve_retries',
    parse(ctx) {
      if (ctx.args[1] === undefined) {
        ctx.report.alert("'resolve_retries' expects <nb> as argument.");
        return;
      }
      keep(ctx);
    },
  },
  {
    name: 'resolution_pool_size',
    parse(ctx) {
      ctx.report.alert("'resolution_pool_size' directive is not supported anymore (it never appeared in a stable release).");
    },
  },
  {
    name: 'timeout',
    parse(ctx) {
      const { args, report } = ctx;
      const which = args[1];
      if (which === undefined) {
        report.alert("'timeout' expects 'retry' or 'resolve' and <time> as arguments.");
        return;
      }
      if (which !== 'retry' && which !== 'resolve') {
        report.alert(`'timeout' expects 'retry' or 'resolve' and <time> as arguments got '${which}'.`);
        return;
      }
      if (args[2] === undefined) {
        report.alert(`'timeout ${which}' expects <time> as argument.`);
        return;
      }
      if (!resolversTime(ctx, args[2], `timeout ${which}`)) return;
      keep(ctx);
    },
  },
]);
