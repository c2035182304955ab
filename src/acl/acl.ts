// ACLs (HAProxy's acl.c): `acl <name> <criterion> [flags] [operator] <patterns...>`. Lines with
// the same name are ORed; inside a line the patterns are ORed. An ACL is compiled once: its
// sample expression, its match method, its indexed patterns (regexes compiled here).

import { parseAclKeywordExpr, parseSampleExpr, type CompiledExpr, ExprError, toBytes } from './expr.js';
import { FileCache } from './files.js';
import { newPatternGroup, PAT_MATCH_NAMES, parsePattern, type PatternGroup, PatternHead, patExpectType } from './pattern.js';
import { type CompileCtx, findAclKeyword, findFetch, idEnd, PatMatch } from './registry.js';
import { canCast, SmpF, SmpOpt, SmpT, strictInt } from './sample.js';
import { AclError, type CompileOptions, type SampleCtx, type SampleRef } from './types.js';

/** Result of an ACL or condition (HAProxy's ACL_TEST_*): MISS = not decidable yet. */
export const enum AclResult {
  Fail = 0,
  Miss = 1,
  Pass = 3,
}

/** One `acl` line as the configuration parser hands it over (args: the words after the name). */
export interface AclDef {
  name: string;
  args: string[];
  file: string;
  line: number;
}

/** A warning HAProxy prints for an ACL that parses but is probably wrong. */
export interface AclWarning {
  file: string;
  line: number;
  message: string;
}

/** One compiled criterion with its patterns. */
export class AclExpr {
  constructor(
    /** Keyword shown in messages (the ACL keyword, or the fetch). */
    readonly kw: string,
    readonly expr: CompiledExpr,
    readonly head: PatternHead,
  ) {}

  /** Matches every value the fetch yields until one matches (HAProxy's acl_exec_cond inner loop). */
  exec(ctx: SampleCtx, opt: number): AclResult {
    const smp = this.expr.smp;
    smp.reset();
    let res = AclResult.Fail;
    for (;;) {
      if (!this.expr.process(ctx, opt, smp)) {
        if (smp.flags & SmpF.MayChange && !(opt & SmpOpt.Final)) res |= AclResult.Miss;
        return res;
      }
      if (this.head.exec(smp) !== null) return AclResult.Pass;
      if (smp.flags & SmpF.NotLast) continue;
      if (smp.flags & SmpF.MayChange && !(opt & SmpOpt.Final)) res |= AclResult.Miss;
      return res;
    }
  }
}

/** A named ACL: the expressions of all its lines, in order. */
export interface AclEntry {
  readonly name: string;
  readonly exprs: AclExpr[];
  /** Where it was first declared (conditions before that line cannot see it). */
  readonly file: string;
  readonly line: number;
}

/** Default match method for a sample type, when neither keyword nor -m gives one. */
function defaultMatch(t: SmpT): PatMatch | null {
  switch (t) {
    case SmpT.Bool:
      return PatMatch.Bool;
    case SmpT.Sint:
      return PatMatch.Int;
    case SmpT.Addr:
    case SmpT.Ipv4:
    case SmpT.Ipv6:
      return PatMatch.Ip;
    case SmpT.Str:
      return PatMatch.Str;
    default:
      return null;
  }
}

const OPERATORS: Record<string, number> = { eq: 0, gt: 1, ge: 2, lt: 3, le: 4 };

/** Rewrites "gt 5" and friends into ranges, as HAProxy's compatibility layer does. */
function applyOperator(arg: string, op: number): string {
  if (op === 0 || arg.includes(':') || arg.includes('-')) return arg;
  const dot = arg.indexOf('.');
  let v = strictInt(dot < 0 ? arg : arg.slice(0, dot));
  if (Number.isNaN(v)) throw new Error(`'${arg}' is neither a number nor a supported operator`);
  if (op === 1) v++;
  if (op === 3) v--;
  return op === 1 || op === 2 ? `${v}:` : `:${v}`;
}

/**
 * Compiles one criterion and its patterns (HAProxy's parse_acl_expr). `args[0]` is the
 * criterion. Throws Error with HAProxy's message.
 */
export function parseAclExpr(args: readonly string[], cc: CompileCtx, files: FileCache, dirOpt: number, warnings: AclWarning[]): AclExpr {
  const crit = args[0] ?? '';
  const aclkw = findAclKeyword(crit.slice(0, idEnd(crit, 0)));
  let expr: CompiledExpr;
  let method: PatMatch | null;
  let expectType: SmpT;
  let kw: string;
  if (aclkw) {
    const fetch = findFetch(aclkw.fetch);
    if (!fetch) throw new Error(`ACL keyword '${aclkw.name}' relies on sample fetch '${aclkw.fetch}' which was not registered`);
    const r = parseAclKeywordExpr(crit, aclkw.name, fetch, cc, dirOpt);
    expr = r.expr;
    if (r.convFound) {
      kw = fetch.name;
      method = defaultMatch(expr.outType);
      expectType = method === null ? expr.outType : patExpectType(method);
    } else {
      // The keyword's own method applies, on the fetch's output type.
      kw = aclkw.name;
      method = aclkw.match;
      expectType = expr.outType;
    }
  } else {
    try {
      expr = parseSampleExpr(args, 0, cc, dirOpt, true);
    } catch (e) {
      if (e instanceof ExprError) throw new Error(`${e.message} in ACL expression '${crit}'`);
      throw e;
    }
    kw = expr.fetch.name;
    method = defaultMatch(expr.outType);
    expectType = method === null ? expr.outType : patExpectType(method);
  }
  const curType = expr.outType;

  if (method !== null && curType !== SmpT.Bool && !args[1]) {
    warnings.push({
      file: cc.file,
      line: cc.line,
      message:
        `parsing acl keyword '${crit}' :\n` +
        '  no pattern to match against were provided, so this ACL will never match.\n' +
        "  If this is what you intended, please add '--' to get rid of this warning.\n" +
        "  If you intended to match only for existence, please use '-m found'.\n" +
        "  If you wanted to force an int to match as a bool, please use '-m bool'.\n",
    });
  }

  const needMethod = (): never => {
    throw new Error(`matching method must be specified first (using '-m') when using a sample fetch of this type ('${kw}')`);
  };
  const groups: PatternGroup[] = [];
  let icase = false;
  let noDns = false;
  let asMap = false;
  let loaded = false;
  let i = 1;
  for (; args[i] !== undefined && args[i]!.startsWith('-'); i++) {
    const a = args[i]!;
    if (a === '-i') icase = true;
    else if (a === '-n') noDns = true;
    else if (a === '-M') asMap = true;
    else if (a === '-u') {
      if (!/^\s*[+-]?[0-9]*$/.test(args[i + 1] ?? '')) throw new Error('the argument of -u must be an integer');
      i++;
    } else if (a === '-f') {
      if (method === null) needMethod();
      const name = args[++i] ?? '';
      const group = newPatternGroup(method!, icase);
      for (const e of files.load(name, asMap)) {
        try {
          group.add(parsePattern(method!, e.key, icase, noDns));
        } catch (err) {
          throw new Error(`${(err as Error).message} at line ${e.line} of file '${name}'`);
        }
      }
      group.finish();
      groups.push(group);
      loaded = true;
    } else if (a === '-m') {
      if (loaded) throw new Error("'-m' must only be specified before patterns and files in parsing ACL expression");
      const name = args[++i] ?? '';
      const idx = PAT_MATCH_NAMES.indexOf(name);
      if (idx < 0) throw new Error(`unknown matching method '${name}' when parsing ACL expression`);
      const m = idx as PatMatch;
      if (m !== PatMatch.Found && !canCast(curType, patExpectType(m))) {
        throw new Error(`matching method '${name}' cannot be used with fetch keyword '${kw}'`);
      }
      method = m;
      expectType = patExpectType(m);
    } else if (a === '--') {
      i++;
      break;
    } else {
      throw new Error(`'${a}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'`);
    }
  }
  if (method === null) needMethod();

  const head = new PatternHead(method!, expectType);
  head.groups.push(...groups);
  const inline = newPatternGroup(method!, icase);
  const intLike = method === PatMatch.Int || method === PatMatch.Len;
  let op = 0;
  // An empty word ends the patterns, as the end of HAProxy's argument array does.
  for (; args[i]; i++) {
    let arg = toBytes(args[i]!);
    if (intLike) {
      const o = OPERATORS[arg];
      if (o !== undefined) {
        op = o;
        continue;
      }
      arg = applyOperator(arg, op);
    }
    inline.add(parsePattern(method!, arg, icase, noDns));
  }
  inline.finish();
  head.groups.push(inline);
  return new AclExpr(kw, expr, head);
}

// Predefined ACLs (acl.c default_acl_list), compiled the first time a condition names them.
const PREDEFINED: Record<string, string[]> = {
  TRUE: ['always_true'],
  FALSE: ['always_false'],
  LOCALHOST: ['src', '127.0.0.1/8', '::1'],
  HTTP: ['req.proto_http'],
  'HTTP_1.0': ['req.ver', '1.0'],
  'HTTP_1.1': ['req.ver', '1.1'],
  'HTTP_2.0': ['req.ver', '2.0'],
  METH_CONNECT: ['method', 'CONNECT'],
  METH_DELETE: ['method', 'DELETE'],
  METH_GET: ['method', 'GET', 'HEAD'],
  METH_HEAD: ['method', 'HEAD'],
  METH_OPTIONS: ['method', 'OPTIONS'],
  METH_POST: ['method', 'POST'],
  METH_PUT: ['method', 'PUT'],
  METH_TRACE: ['method', 'TRACE'],
  HTTP_URL_ABS: ['url_reg', '^[^/:]*://'],
  HTTP_URL_SLASH: ['url_beg', '/'],
  HTTP_URL_STAR: ['url', '*'],
  HTTP_CONTENT: ['req.hdr_val(content-length)', 'gt', '0'],
  RDP_COOKIE: ['req.rdp_cookie_cnt', 'gt', '0'],
  REQ_CONTENT: ['req.len', 'gt', '0'],
  WAIT_END: ['wait_end'],
};

/** Names of HAProxy's predefined ACLs. */
export const PREDEFINED_ACLS: readonly string[] = Object.keys(PREDEFINED);

/** Characters allowed in ACL names; the first offending one, or undefined. */
function invalidChar(name: string): string | undefined {
  if (name.length === 0) return '';
  for (const c of name) if (!/[A-Za-z0-9_.:-]/.test(c)) return c;
  return undefined;
}

/**
 * The ACLs of one proxy. `add` is HAProxy's `acl` keyword; conditions compiled later look names
 * up here (see compileCondition). The table is filled while the configuration is read and
 * must not change once traffic flows.
 */
export class AclTable {
  private readonly acls = new Map<string, AclEntry>();
  private readonly predefined = new Map<string, AclEntry>();
  readonly warnings: AclWarning[] = [];
  readonly refs: SampleRef[] = [];
  readonly files: FileCache;
  readonly dirOpt: number;

  constructor(readonly opts: CompileOptions & { files?: FileCache } = {}) {
    this.files = opts.files ?? new FileCache(opts.baseDir);
    this.dirOpt = opts.dir === 'res' ? SmpOpt.DirRes : 0;
  }

  /** Compile context for one configuration line. */
  ctx(file: string, line: number, fromAcl = true): CompileCtx {
    return { baseDir: this.files.baseDir, file, line, files: this.files, refs: this.refs, fromAcl, kw: '', conv: '' };
  }

  /** Adds one `acl` line; throws AclError with HAProxy's message. */
  add(def: AclDef): void {
    const bad = invalidChar(def.name);
    if (bad !== undefined) {
      throw new AclError(`character '${bad}' is not permitted in acl name '${def.name}'.`, def.file, def.line, 'plain', def.name);
    }
    if (def.name.toLowerCase() === 'or') {
      throw new AclError(
        `acl name '${def.name}' will never match. 'or' is used to express a logical disjunction within a condition.`,
        def.file,
        def.line,
        'plain',
        def.name,
      );
    }
    const expr = this.compileExpr(def.name, def.args, def.file, def.line);
    let entry = this.acls.get(def.name);
    if (!entry) {
      entry = { name: def.name, exprs: [], file: def.file, line: def.line };
      this.acls.set(def.name, entry);
    }
    entry.exprs.push(expr);
  }

  /** Compiles the criterion and patterns of an ACL line (named, or anonymous with name ""). */
  compileExpr(name: string, args: readonly string[], file: string, line: number): AclExpr {
    try {
      const expr = parseAclExpr(args, this.ctx(file, line), this.files, this.dirOpt, this.warnings);
      const crit = args[0] ?? '';
      if (!crit.includes('(') && (args[1] ?? '').startsWith('(')) {
        this.warnings.push({
          file,
          line,
          message:
            `parsing acl '${name}' :\n` +
            `  matching '${crit}' for pattern '${args[1]}' is likely a mistake and probably\n` +
            "  not what you want. Maybe you need to remove the extraneous space before '('.\n" +
            "  If you are really sure this is not an error, please insert '--' between the\n" +
            '  match and the pattern to make this warning message disappear.\n',
        });
      }
      return expr;
    } catch (e) {
      // Programming errors are not configuration errors: let them surface as they are.
      if (e instanceof AclError || e instanceof TypeError || e instanceof ReferenceError) throw e;
      throw new AclError((e as Error).message, file, line, 'acl', name);
    }
  }

  /** The ACL called `name` as seen from a condition at file:line, or undefined. */
  lookup(name: string, file: string, line: number): AclEntry | undefined {
    const e = this.acls.get(name);
    // HAProxy resolves names while reading: an ACL declared further down is not known yet.
    if (e && !(e.file === file && e.line > line)) return e;
    return undefined;
  }

  /** A predefined ACL, compiled once per table; undefined if `name` is not one. */
  predefinedAcl(name: string, file: string, line: number): AclEntry | undefined {
    const known = this.predefined.get(name);
    if (known) return known;
    const words = PREDEFINED[name];
    if (!words) return undefined;
    const fetch = words[0]!.replace(/\(.*$/, '');
    if (!findFetch(fetch) && !findAclKeyword(fetch)) {
      throw new AclError(`predefined ACL '${name}' needs the '${fetch}' fetch, which sluice does not support yet`, file, line, 'plain', name);
    }
    const entry: AclEntry = { name, exprs: [this.compileExpr(name, words, file, line)], file, line: 0 };
    this.predefined.set(name, entry);
    return entry;
  }

  /** Names of the declared ACLs. */
  names(): string[] {
    return [...this.acls.keys()];
  }
}

/**
 * Compiles a proxy's `acl` lines in order (HAProxy's parse_acl for each); throws the first
 * AclError. `opts.files` lets several proxies share the pattern files already read.
 */
export function compileAcls(defs: readonly AclDef[], opts: CompileOptions & { files?: FileCache } = {}): AclTable {
  const t = new AclTable(opts);
  for (const d of defs) t.add(d);
  return t;
}
