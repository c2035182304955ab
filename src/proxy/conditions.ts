// Wires the ACL engine into the configuration (checks at load time, with file and line) and
// compiles each proxy's ACLs and rule conditions once for the running proxy.

import { registerAclLineChecker, registerConditionChecker, type ConditionSpec, type ProxyConfig } from '../config/index.js';
import { AclError, aclErrorText, compileAcls, compileCondition, type AclTable, type Condition } from '../acl/index.js';

/** The ACL table of a proxy as declared so far (`acls` in declaration order). */
function tableOf(acls: ReadonlyArray<{ name: string; args: string[]; loc: { file: string; line: number } }>): AclTable {
  return compileAcls(acls.map((a) => ({ name: a.name, args: a.args, file: a.loc.file, line: a.loc.line })));
}

// A condition is checked against the ACLs declared before it, as HAProxy does.
registerConditionChecker((cond, ctx) => {
  try {
    compileCondition(cond, tableOf(ctx.proxy.acls));
    return undefined;
  } catch (err) {
    if (err instanceof AclError) return err.kind === 'acl' ? aclErrorText(err) : err.message;
    throw err;
  }
});

// Each `acl` line is compiled on its own when read, so that its errors point at it.
registerAclLineChecker((name, args, file, line) => {
  try {
    compileAcls([{ name, args, file, line }]);
    return undefined;
  } catch (err) {
    if (err instanceof AclError) return aclErrorText(err);
    throw err;
  }
});

/** Compiled conditions of one proxy, built once at start-up from its frozen configuration. */
export class ProxyConditions {
  private readonly table: AclTable;

  constructor(p: ProxyConfig) {
    this.table = tableOf(p.acls);
  }

  /** The compiled condition, or null for a rule without one. */
  compile(cond: ConditionSpec | undefined, dir: 'req' | 'res' = 'req'): Condition | null {
    return cond === undefined ? null : compileCondition(cond, this.table, { dir });
  }
}
