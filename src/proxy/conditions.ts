// Wires the ACL engine into the configuration (checks at load time, with file and line) and
// compiles each proxy's ACLs and rule conditions once for the running proxy. Also keeps the
// userlists named by http_auth fetches met while parsing, to check them once every section
// is read (userlists may come after the proxies that use them).

import {
  registerAclLineChecker,
  registerConditionChecker,
  registerSampleChecks,
  type AclDef,
  type ConditionSpec,
  type ProxyConfig,
} from '../config/index.js';
import { getLogFormatChecker } from '../config/registry.js';
import type { ParserState } from '../config/state.js';
import {
  AclError,
  aclErrorText,
  atPlace,
  compileAcls,
  compileCondition,
  compileSampleExpr,
  Place,
  quoteFormatRest,
  SampleScopeError,
  sourceNames,
  type AclTable,
  type Condition,
  type FileCache,
} from '../acl/index.js';
import { takeUserlistRefs, type UserlistRef } from '../http/actions/index.js';

/**
 * The ACL table of a section as declared so far (`acls` in declaration order), compiled for one
 * direction: response rules ('res') read the response.
 */
export function tableOf(acls: readonly AclDef[], dir: 'req' | 'res' = 'req', files?: FileCache): AclTable {
  return compileAcls(
    acls.map((a) => ({ name: a.name, args: a.args, file: a.loc.file, line: a.loc.line })),
    { dir, files },
  );
}

/** Userlist references met while parsing one configuration, with the proxy that holds them. */
export interface PendingRefs {
  refs: UserlistRef[];
  proxy: string;
  where: string;
}

const pendingRefs = new WeakMap<ParserState, PendingRefs[]>();

/** Keeps `refs` (and any compiled since the last call) for the end-of-load check. */
export function keepUserlistRefs(state: ParserState, refs: UserlistRef[], proxy: string, where = 'in'): void {
  const all = [...refs, ...takeUserlistRefs()];
  if (all.length === 0) return;
  let l = pendingRefs.get(state);
  if (l === undefined) pendingRefs.set(state, (l = []));
  l.push({ refs: all, proxy, where });
}

/** The references kept for this load (and forgets them). */
export function takePendingRefs(state: ParserState): PendingRefs[] {
  const l = pendingRefs.get(state) ?? [];
  pendingRefs.delete(state);
  return l;
}

// A condition is checked against the ACLs declared before it, as HAProxy does.
registerConditionChecker((cond, ctx, where) => {
  try {
    const c = compileCondition(cond, tableOf(ctx.proxy.acls), { where });
    // Named ACLs had their references kept with their own line; anonymous ones are new.
    keepUserlistRefs(ctx.state, [], ctx.proxy.name);
    return c.warning === null ? undefined : { warning: c.warning };
  } catch (err) {
    takeUserlistRefs();
    if (err instanceof AclError) return err.kind === 'acl' ? aclErrorText(err) : err.message;
    throw err;
  }
});

// Each `acl` line is compiled on its own when read, so that its errors point at it.
registerAclLineChecker((name, args, ctx) => {
  try {
    compileAcls([{ name, args, file: ctx.loc.file, line: ctx.loc.line }]);
    keepUserlistRefs(ctx.state, [], ctx.proxy.name);
    return undefined;
  } catch (err) {
    takeUserlistRefs();
    if (err instanceof AclError) return aclErrorText(err);
    throw err;
  }
});

// Log-format strings and sample expressions outside HTTP rules, checked at their place.
registerSampleChecks({
  format(fmt, mode, where) {
    const err = atPlace(where, () => getLogFormatChecker()?.(fmt, mode));
    return err === undefined ? undefined : quoteFormatRest(err, [fmt]);
  },
  expr(text, where) {
    try {
      compileSampleExpr(text, { where });
      return undefined;
    } catch (e) {
      if (e instanceof SampleScopeError) return { needs: sourceNames(e.use) };
      if (e instanceof AclError) return { error: e.message };
      throw e;
    }
  },
});

/** Compiled conditions of one proxy, built once at start-up from its frozen configuration. */
export class ProxyConditions {
  private readonly table: AclTable;
  /** The place of the switching rules' conditions (use_backend, use-server). */
  private readonly places = new Map<ConditionSpec, number>();

  constructor(p: ProxyConfig) {
    this.table = tableOf(p.acls);
    for (const r of p.useBackends) if (r.cond !== undefined) this.places.set(r.cond, Place.FeSetBck);
    for (const r of p.useServers) if (r.cond !== undefined) this.places.set(r.cond, Place.BeSetSrv);
  }

  /** The compiled condition, or null for a rule without one. */
  compile(cond: ConditionSpec | undefined, dir: 'req' | 'res' = 'req'): Condition | null {
    return cond === undefined ? null : compileCondition(cond, this.table, { dir, where: this.places.get(cond) });
  }
}
