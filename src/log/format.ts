// Compiles a log-format string (HAProxy configuration.txt 8.2.6) into a flat list of nodes,
// once, at start-up. Rendering (render.ts) is then a loop with a switch per node.
//
// Syntax: literal text; "%%" for a '%'; "%alias" (letters and digits); "%{+Q,-X}alias" with
// flags; "%(name:type)alias" named items; "%[sample,expr]" sample expressions; "%o" sets the
// default flags of every following item. With space merging (the log-format directives),
// runs of spaces become one separator that prints a single space between non-empty fields.

/** Item flags. */
export const enum LfFlag {
  /** "M": an empty value prints "-". */
  Mandatory = 1,
  /** "Q": strings are quoted. */
  Quote = 2,
  /** "X": IPs, ports and some numbers in hexadecimal. */
  Hex = 4,
  /** "E": '"', '\' and ']' escaped with a backslash. */
  Esc = 8,
}

/** The `%` aliases sluice implements (HAProxy's table minus %OG). */
export const enum Alias {
  ClientIp, ClientPort, FrontendIp, FrontendPort, BackendIp, BackendPort, ServerIp, ServerPort,
  DateMs, ReqDateMs, DateGmt, ReqDateGmt, DateLocal, ReqDateLocal, Timestamp, Millis,
  Frontend, FrontendXprt, Backend, Server, SslCipher, SslVersion,
  Th, Ti, TR, Tq, Tw, Tc, Tr, Td, Ta, Tt, Tu,
  Status, Bytes, BytesUp, CookieReq, CookieRes, TermState, TermStateCk,
  ActConn, FeConn, BeConn, SrvConn, Retries, SrvQueue, BackendQueue,
  HdrReq, HdrReqList, HdrRes, HdrResList,
  Request, HttpMethod, HttpUri, HttpPath, HttpPathOnly, HttpQuery, HttpVersion,
  ReqCounter, LogCount, Hostname, Pid, UniqueId,
}

const ALIASES: ReadonlyMap<string, Alias> = new Map<string, Alias>([
  ['B', Alias.Bytes], ['CC', Alias.CookieReq], ['CS', Alias.CookieRes], ['H', Alias.Hostname],
  ['ID', Alias.UniqueId], ['ST', Alias.Status], ['T', Alias.DateGmt], ['Ta', Alias.Ta],
  ['Tc', Alias.Tc], ['Th', Alias.Th], ['Ti', Alias.Ti], ['Tl', Alias.DateLocal], ['Tq', Alias.Tq],
  ['Tr', Alias.Tr], ['TR', Alias.TR], ['Td', Alias.Td], ['Ts', Alias.Timestamp], ['Tt', Alias.Tt],
  ['Tu', Alias.Tu], ['Tw', Alias.Tw], ['U', Alias.BytesUp], ['ac', Alias.ActConn],
  ['b', Alias.Backend], ['bc', Alias.BeConn], ['bi', Alias.BackendIp], ['bp', Alias.BackendPort],
  ['bq', Alias.BackendQueue], ['ci', Alias.ClientIp], ['cp', Alias.ClientPort],
  ['f', Alias.Frontend], ['fc', Alias.FeConn], ['fi', Alias.FrontendIp], ['fp', Alias.FrontendPort],
  ['ft', Alias.FrontendXprt], ['hr', Alias.HdrReq], ['hrl', Alias.HdrReqList], ['hs', Alias.HdrRes],
  ['hsl', Alias.HdrResList], ['HM', Alias.HttpMethod], ['HP', Alias.HttpPath],
  ['HPO', Alias.HttpPathOnly], ['HQ', Alias.HttpQuery], ['HU', Alias.HttpUri],
  ['HV', Alias.HttpVersion], ['lc', Alias.LogCount], ['ms', Alias.Millis], ['pid', Alias.Pid],
  ['r', Alias.Request], ['rc', Alias.Retries], ['rt', Alias.ReqCounter], ['s', Alias.Server],
  ['sc', Alias.SrvConn], ['si', Alias.ServerIp], ['sp', Alias.ServerPort], ['sq', Alias.SrvQueue],
  ['sslc', Alias.SslCipher], ['sslv', Alias.SslVersion], ['t', Alias.DateMs],
  ['tr', Alias.ReqDateMs], ['trg', Alias.ReqDateGmt], ['trl', Alias.ReqDateLocal],
  ['ts', Alias.TermState], ['tsc', Alias.TermStateCk],
]);

/** HAProxy aliases sluice does not implement yet: refused with a message that says so. */
const UNSUPPORTED_ALIASES: ReadonlySet<string> = new Set(['OG']);

/** The names of every alias `compileLogFormat` accepts (for documentation and tests). */
export const LOG_FORMAT_ALIASES: readonly string[] = [...ALIASES.keys()];

/** What a sample expression yields; null/undefined/"" print like a missing value. */
export type SampleValue = string | number | boolean | null | undefined;
/** A compiled sample expression, evaluated against the caller's context (the stream). */
export type SampleFn = (ctx: unknown) => SampleValue;
/** Compiles "req.hdr(host),lower"; throws an Error whose message says what is wrong. */
export type SampleCompiler = (expr: string) => SampleFn;

let registeredSampleCompiler: SampleCompiler | undefined;

/**
 * Installs the sample-fetch engine used for `%[...]` by later `compileLogFormat` calls (and by
 * `bindSamples`). Until one is installed, sample items print as missing values ("-").
 */
export function registerSampleCompiler(compiler: SampleCompiler | undefined): void {
  registeredSampleCompiler = compiler;
}

export const enum NodeKind {
  Text = 0,
  Separator = 1,
  Alias = 2,
  Sample = 3,
}

/** One compiled item. Every field is always set so that all nodes share one shape. */
export interface LfNode {
  kind: NodeKind;
  /** Text nodes: the literal; sample nodes: the expression as written. */
  text: string;
  alias: Alias;
  flags: number;
  /** `%(name)` item name, "" when none (only used by encodings sluice does not implement). */
  name: string;
  /** Sample nodes: the compiled expression, null until an engine is bound. */
  fn: SampleFn | null;
}

export interface LogFormat {
  /** The format string as written. */
  readonly source: string;
  readonly nodes: readonly LfNode[];
  /** `option logasap`: %B %Ta %Tt %Tu print a "+" prefix. */
  readonly logasap: boolean;
  /** Sample values are encoded for HTTP header fields (unique-id-format), not log text. */
  readonly httpEncode: boolean;
}

export interface LogFormatOptions {
  /** Empty values print "-" (flag M). Log formats have it; unique-id-format does not. Default true. */
  mandatory?: boolean;
  /** Spaces are field separators and runs of them merge. Default true. */
  mergeSpaces?: boolean;
  /** The proxy has `option logasap`. */
  logasap?: boolean;
  /** Encode sample output for use in HTTP header fields (unique-id-format). */
  httpEncode?: boolean;
  /** Compiler for `%[...]`; default: the registered one. */
  sampleCompiler?: SampleCompiler;
}

/** A log-format string that cannot be compiled; the message is HAProxy's wording. */
export class LogFormatError extends Error {
  override readonly name = 'LogFormatError';
}

const FLAG_NAMES: ReadonlyMap<string, number> = new Map([
  ['M', LfFlag.Mandatory],
  ['Q', LfFlag.Quote],
  ['X', LfFlag.Hex],
  ['E', LfFlag.Esc],
]);
/** HAProxy encoding flags sluice does not implement: accepting them silently would mislead. */
const UNSUPPORTED_FLAGS: ReadonlySet<string> = new Set(['json', 'cbor', 'bin']);

function isAlpha(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isAlnum(c: string | undefined): boolean {
  return isAlpha(c) || isDigit(c);
}

function newNode(kind: NodeKind, text: string, alias: Alias, flags: number, name: string): LfNode {
  return { kind, text, alias, flags, name, fn: null };
}

/** Applies "+Q,-X" style arguments to `flags`, the way HAProxy reads them. */
function applyFlagArgs(args: string, flags: number): number {
  let start = -1;
  let add = true;
  for (let i = 0; i <= args.length; i++) {
    const c = args[i];
    if (c === '+' || c === '-') {
      start = i + 1;
      add = c === '+';
    } else if (c === undefined || c === ',') {
      if (start >= 0) {
        const name = args.slice(start, i);
        if (UNSUPPORTED_FLAGS.has(name)) {
          throw new LogFormatError(`format flag '${name}' is not supported by sluice yet`);
        }
        const bit = FLAG_NAMES.get(name);
        if (bit !== undefined) flags = add ? flags | bit : flags & ~bit;
      }
      start = -1;
    }
  }
  return flags;
}

/**
 * Finds the end of a sample expression starting at `from` (just after "%["): the index of the
 * closing ']' outside parentheses and quotes. Throws HAProxy's message when there is none.
 */
function scanSampleExpr(fmt: string, from: number): number {
  let depth = 0;
  let quote = '';
  for (let i = from; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && c === ']') return i;
    else if (depth === 0 && (c === ' ' || c === '\t')) {
      throw new LogFormatError(`expected ']' after '${fmt.slice(from, i)}', but found '${c}'`);
    }
  }
  throw new LogFormatError(`missing ']' after '${fmt.slice(from)}'`);
}

/**
 * Compiles a log-format string. Throws LogFormatError with HAProxy's message for unknown
 * aliases, bad syntax and sample expressions the sample compiler refuses.
 */
export function compileLogFormat(fmt: string, opts: LogFormatOptions = {}): LogFormat {
  const mergeSpaces = opts.mergeSpaces ?? true;
  const compiler = opts.sampleCompiler ?? registeredSampleCompiler;
  const nodes: LfNode[] = [];
  let defaults = (opts.mandatory ?? true) ? LfFlag.Mandatory : 0;
  let text = '';

  const flushText = (): void => {
    if (text !== '') {
      const last = nodes[nodes.length - 1];
      if (last && last.kind === NodeKind.Text) last.text += text;
      else nodes.push(newNode(NodeKind.Text, text, Alias.ClientIp, 0, ''));
      text = '';
    }
  };

  const n = fmt.length;
  let i = 0;
  while (i < n) {
    const c = fmt[i]!;
    if (c === ' ' && mergeSpaces) {
      flushText();
      const last = nodes[nodes.length - 1];
      // Consecutive separators print at most one space: one node is enough.
      if (!last || last.kind !== NodeKind.Separator) {
        nodes.push(newNode(NodeKind.Separator, ' ', Alias.ClientIp, 0, ''));
      }
      i++;
      continue;
    }
    if (c !== '%') {
      text += c;
      i++;
      continue;
    }

    // An item: %[(name[:type])][{flags}](alias|[expr]), or "%%".
    let j = i + 1;
    let name = '';
    if (j >= n) throw new LogFormatError(`truncated line after '%'`);
    if (fmt[j] === '(') {
      const start = j + 1;
      let k = start;
      let typeStart = -1;
      for (; k < n && fmt[k] !== ')'; k++) {
        const ch = fmt[k]!;
        if (ch === ':' && typeStart < 0) {
          typeStart = k + 1;
        } else if (typeStart < 0 && !isAlnum(ch) && ch !== '_' && ch !== '-') {
          throw new LogFormatError(
            `invalid character in custom name near '${ch}' at position ${k} line : '${fmt}'`,
          );
        }
      }
      if (k >= n) throw new LogFormatError(`truncated line after '%'`);
      name = fmt.slice(start, typeStart < 0 ? k : typeStart - 1);
      if (typeStart >= 0) {
        const type = fmt.slice(typeStart, k);
        if (type !== 'str' && type !== 'sint' && type !== 'bool' && type !== 'raw') {
          throw new LogFormatError(
            `unexpected output type '${type}' at position ${typeStart} line : '${fmt}'. ` +
              'Supported types are: str, sint, bool, raw',
          );
        }
      }
      j = k + 1;
      if (j >= n) throw new LogFormatError(`truncated line after '%'`);
    }

    let flags = defaults;
    const c2 = fmt[j]!;
    if (c2 === '{') {
      const end = fmt.indexOf('}', j + 1);
      if (end < 0) throw new LogFormatError(`truncated line after '${fmt.slice(j + 1)}'`);
      const args = fmt.slice(j + 1, end);
      flags = applyFlagArgs(args, flags);
      j = end + 1;
      if (fmt[j] !== '[' && !isAlnum(fmt[j])) {
        throw new LogFormatError(`parse argument modifier without alias name near '%{${args}}'`);
      }
    } else if (c2 === '%') {
      text += '%';
      i = j + 1;
      continue;
    } else if (isDigit(c2) || c2 === ' ' || c2 === '\t') {
      throw new LogFormatError(
        `unexpected alias name near '${c2}' at position ${j} line : '${fmt}'. ` +
          "Maybe you want to write a single '%', use the syntax '%%'",
      );
    } else if (c2 !== '[' && !isAlpha(c2)) {
      // HAProxy drops a lone '%' before any other character and keeps the character.
      i = j;
      continue;
    }

    flushText();
    if (fmt[j] === '[') {
      const end = scanSampleExpr(fmt, j + 1);
      const expr = fmt.slice(j + 1, end);
      const node = newNode(NodeKind.Sample, expr, Alias.ClientIp, flags, name);
      if (compiler) node.fn = compileSample(compiler, expr);
      nodes.push(node);
      i = end + 1;
      continue;
    }

    let k = j;
    while (k < n && isAlnum(fmt[k])) k++;
    const aliasName = fmt.slice(j, k);
    i = k;
    if (aliasName === 'o') {
      // %o only changes the defaults of the items after it.
      defaults = flags;
      continue;
    }
    const alias = ALIASES.get(aliasName);
    if (alias === undefined) {
      if (UNSUPPORTED_ALIASES.has(aliasName)) {
        throw new LogFormatError(`format alias '${aliasName}' is not supported by sluice yet`);
      }
      throw new LogFormatError(
        `no such format alias '${aliasName}'. ` +
          "If you wanted to emit the '%' character verbatim, you need to use '%%'",
      );
    }
    nodes.push(newNode(NodeKind.Alias, '', alias, flags, name));
  }
  flushText();

  return {
    source: fmt,
    nodes,
    logasap: opts.logasap ?? false,
    httpEncode: opts.httpEncode ?? false,
  };
}

function compileSample(compiler: SampleCompiler, expr: string): SampleFn {
  try {
    return compiler(expr);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new LogFormatError(`failed to parse sample expression <${expr}> : ${msg}`);
  }
}

/**
 * Compiles (or recompiles) the `%[...]` items of an already compiled format with `compiler`,
 * for formats compiled before the sample engine was registered. Throws like compileLogFormat.
 */
export function bindSamples(fmt: LogFormat, compiler: SampleCompiler): void {
  for (const node of fmt.nodes) {
    if (node.kind === NodeKind.Sample) node.fn = compileSample(compiler, node.text);
  }
}

/** The sample expressions of a format, as written (for the config layer's checks). */
export function sampleExpressions(fmt: LogFormat): string[] {
  const out: string[] = [];
  for (const node of fmt.nodes) if (node.kind === NodeKind.Sample) out.push(node.text);
  return out;
}
