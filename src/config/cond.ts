// Conditions of the `.if` / `.elif` directives (configuration.txt 2.4): integers, predicates
// defined(), feature(), streq(), strneq(), version_atleast(), version_before(), '!' negation,
// parentheses, '&&' binding tighter than '||'.

import type { Env } from './lexer.js';

export interface CondContext {
  env: Env;
  /** Version compared by version_atleast()/version_before(), e.g. "2.6.0". */
  version: string;
  /** Names answered true by feature(). */
  features: readonly string[];
}

export type CondResult = { ok: true; value: boolean } | { ok: false; error: string; pos: number };

class CondError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

const PREDICATES: Record<string, number> = {
  defined: 1,
  feature: 1,
  streq: 2,
  strneq: 2,
  version_atleast: 1,
  version_before: 1,
  openssl_version_atleast: 1,
  openssl_version_before: 1,
  ssllib_name_startswith: 1,
};

/** Evaluates the text of a condition (the words after `.if`, joined by spaces). */
export function evalCondition(text: string, ctx: CondContext): CondResult {
  const p = new CondParser(text, ctx);
  try {
    p.skipBlanks();
    if (p.pos >= text.length) return { ok: true, value: false };
    const value = p.parseOr(0);
    p.skipBlanks();
    if (p.pos < text.length) {
      throw new CondError(`unexpected character '${text[p.pos]}' at the end of conditional expression '${text}'`, p.pos);
    }
    return { ok: true, value };
  } catch (e) {
    if (e instanceof CondError) return { ok: false, error: e.message, pos: e.pos };
    throw e;
  }
}

class CondParser {
  pos = 0;
  constructor(
    readonly text: string,
    readonly ctx: CondContext,
  ) {}

  skipBlanks(): void {
    while (this.text[this.pos] === ' ' || this.text[this.pos] === '\t') this.pos++;
  }

  parseOr(depth: number): boolean {
    let value = this.parseAnd(depth);
    for (;;) {
      this.skipBlanks();
      if (!this.text.startsWith('||', this.pos)) return value;
      this.pos += 2;
      const rhs = this.parseAnd(depth);
      value = value || rhs;
    }
  }

  parseAnd(depth: number): boolean {
    let value = this.parseTerm(depth);
    for (;;) {
      this.skipBlanks();
      if (!this.text.startsWith('&&', this.pos)) return value;
      this.pos += 2;
      const rhs = this.parseTerm(depth);
      value = value && rhs;
    }
  }

  parseTerm(depth: number): boolean {
    this.skipBlanks();
    const start = this.pos;
    if (depth > 20) throw new CondError(`unparsable conditional expression '${this.text.slice(start)}'`, start);
    let neg = false;
    while (this.text[this.pos] === '!') {
      neg = !neg;
      this.pos++;
      this.skipBlanks();
    }
    let value: boolean;
    const c = this.text[this.pos];
    if (c === '(') {
      this.pos++;
      value = this.parseOr(depth + 1);
      this.skipBlanks();
      if (this.text[this.pos] !== ')') {
        throw new CondError(`expected ')' after conditional expression '${this.text.slice(start)}'`, this.pos);
      }
      this.pos++;
    } else if (c !== undefined && /[-0-9]/.test(c)) {
      const m = /^-?\d+/.exec(this.text.slice(this.pos));
      if (!m) throw new CondError(`unparsable conditional expression '${this.text.slice(start)}'`, start);
      this.pos += m[0].length;
      value = Number(m[0]) !== 0;
    } else {
      value = this.parsePredicate(start);
    }
    return neg ? !value : value;
  }

  parsePredicate(start: number): boolean {
    const m = /^[a-z_]+/.exec(this.text.slice(this.pos));
    const name = m?.[0] ?? '';
    const nargs = PREDICATES[name];
    if (nargs === undefined || this.text[this.pos + name.length] !== '(') {
      throw new CondError(`unparsable conditional expression '${this.text.slice(start)}'`, start);
    }
    this.pos += name.length + 1;
    const args = this.parseArgs(name);
    if (args.length !== nargs) {
      throw new CondError(
        `${args.length < nargs ? 'missing' : 'too many'} arguments (got ${args.length}/${nargs}) in predicate '${name}' used in conditional expression`,
        start,
      );
    }
    switch (name) {
      case 'defined':
        return this.ctx.env[args[0]] !== undefined;
      case 'feature':
        return this.ctx.features.includes(args[0]);
      case 'streq':
        return args[0] === args[1];
      case 'strneq':
        return args[0] !== args[1];
      case 'version_atleast':
        return compareVersions(this.ctx.version, args[0]) >= 0;
      case 'version_before':
        return compareVersions(this.ctx.version, args[0]) < 0;
      default:
        // There is no TLS library behind sluice's configuration yet.
        return false;
    }
  }

  /** Reads comma-separated arguments up to the closing parenthesis (second-level quoting). */
  parseArgs(name: string): string[] {
    const args: string[] = [];
    let cur = '';
    let quote: string | null = null;
    let any = false;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++];
      if (quote) {
        if (c === quote) quote = null;
        else if (c === '\\' && this.pos < this.text.length) cur += this.text[this.pos++];
        else cur += c;
      } else if (c === '"' || c === "'") {
        quote = c;
        any = true;
      } else if (c === '\\' && this.pos < this.text.length) {
        cur += this.text[this.pos++];
        any = true;
      } else if (c === ',') {
        args.push(cur);
        cur = '';
        any = true;
      } else if (c === ')') {
        if (any || cur !== '') args.push(cur);
        return args;
      } else {
        cur += c;
        any = true;
      }
    }
    throw new CondError(`missing closing ')' after arguments to predicate '${name}'`, this.pos);
  }
}

/**
 * Compares two HAProxy version strings ("2.4", "2.4-dev19", "2.6.12"); a missing component is
 * zero and development or release-candidate versions come before the release.
 */
export function compareVersions(a: string, b: string): number {
  const pa = versionKey(a);
  const pb = versionKey(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function versionKey(v: string): number[] {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-(dev|pre|rc)(\d*))?/.exec(v);
  if (!m) return [0];
  const stage = m[4] === undefined ? 3 : m[4] === 'dev' ? 0 : m[4] === 'pre' ? 1 : 2;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0), stage, Number(m[5] || 0)];
}
