// Arguments of fetches and converters: "name(arg1,arg2)". Same grammar and messages as
// HAProxy's make_arg_list(): quotes group, backslash escapes \\ \" \' \<space> \r \n \t, a comma
// or closing parenthesis ends an argument, an argument list may be left out when every argument
// is optional, and mandatory arguments that are missing make an empty one.

import { parseIpv4Strict, parseIpv6, parseMask4, parseMask6 } from './addr.js';
import { readEnd, readInt64 } from './sample.js';

/** Argument types (HAProxy's ARGT_*). Names, proxies and regexes stay strings at this stage. */
export const enum ArgT {
  Sint = 1,
  Str = 2,
  Ipv4 = 3,
  Msk4 = 4,
  Ipv6 = 5,
  Msk6 = 6,
  Fe = 9,
  Be = 10,
  Srv = 12,
  Reg = 15,
}

const ARG_TYPE_NAMES: Record<number, string> = {
  0: 'end of arguments',
  1: 'integer',
  2: 'string',
  3: 'IPv4 address',
  4: 'IPv4 mask',
  5: 'IPv6 address',
  6: 'IPv6 mask',
  9: 'frontend',
  10: 'backend',
  12: 'server',
  15: 'regex',
};

/** The arguments a keyword takes: how many are mandatory, and the type of each. */
export interface ArgSpec {
  readonly min: number;
  readonly types: readonly ArgT[];
}

export const NO_ARGS: ArgSpec = { min: 0, types: [] };

/** Sint, Ipv4 and Msk4 are numbers; Ipv6 and Msk6 are 16 bytes; the others strings. */
export type ArgValue = string | number | Uint8Array;

/** A bad argument list; `pos` is the argument number HAProxy reports (0-based). */
export class ArgListError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

export interface ParsedArgs {
  args: ArgValue[];
  /** Index of the first character after the argument list. */
  end: number;
}

function typeName(spec: ArgSpec, pos: number): string {
  return ARG_TYPE_NAMES[spec.types[pos] ?? 0] ?? 'unknown';
}

/**
 * Parses the argument list that may start at `text[start]`. Throws ArgListError with HAProxy's
 * message when the list is malformed or a value does not fit its type.
 */
export function parseArgList(text: string, start: number, spec: ArgSpec): ParsedArgs {
  let i = start;
  const empty = i >= text.length || text.charCodeAt(i) !== 40;
  if (!empty) i++;
  const nbarg = spec.types.length;
  const args: ArgValue[] = [];
  let pos = 0;

  if (nbarg > 0 && !(empty && spec.min === 0)) {
    while (pos < nbarg) {
      let out = '';
      let squote = false;
      let dquote = false;
      while (!empty && i < text.length) {
        const c = text[i]!;
        if (c === '"' && !squote) {
          dquote = !dquote;
          i++;
          continue;
        }
        if (c === "'" && !dquote) {
          squote = !squote;
          i++;
          continue;
        }
        if (c === '\\' && !squote) {
          if (i + 1 >= text.length) {
            throw new ArgListError(
              `failed to parse '${text.slice(i)}' after '${out}' as type '${typeName(spec, pos)}' at position ${pos + 1}`,
              pos,
            );
          }
          const n = text[i + 1]!;
          if (n === '\\' || n === ' ' || n === '"' || n === "'") out += n;
          else if (n === 'r') out += '\r';
          else if (n === 'n') out += '\n';
          else if (n === 't') out += '\t';
          else {
            out += c;
            i++;
            continue;
          }
          i += 2;
          continue;
        }
        if (!squote && !dquote && (c === ',' || c === ')')) break;
        out += c;
        i++;
      }

      const v = convertArg(out, spec.types[pos]!, spec, pos);
      if (v === undefined) {
        // An empty value where one is required: fine if the mandatory ones are already there.
        if (pos >= spec.min) break;
        throw new ArgListError(`expected type '${typeName(spec, pos)}' at position ${pos + 1}, but got nothing`, pos);
      }
      args.push(v);
      pos++;
      if (empty || i >= text.length || text.charCodeAt(i) === 41 || pos >= nbarg) break;
      i++; // the comma
    }
  }

  if (pos < spec.min) {
    throw new ArgListError(`missing arguments (got ${pos}/${spec.min}), type '${typeName(spec, pos)}' expected`, pos);
  }
  if (!empty) {
    if (text.charCodeAt(i) === 41) {
      i++;
    } else {
      const rest = text.slice(i);
      throw new ArgListError(rest ? `expected ')' before '${rest}'` : `expected ')'`, pos > 1 ? pos - 1 : pos);
    }
  }
  return { args, end: i };
}

/** Converts one argument; undefined for an empty value of a type that needs one. */
function convertArg(s: string, t: ArgT, spec: ArgSpec, pos: number): ArgValue | undefined {
  const bad = (): never => {
    throw new ArgListError(`failed to parse '${s}' as type '${typeName(spec, pos)}' at position ${pos + 1}`, pos);
  };
  switch (t) {
    case ArgT.Sint: {
      if (s.length === 0) return undefined;
      const n = readInt64(s, 0, s.length);
      if (readEnd < s.length) bad();
      return n;
    }
    case ArgT.Ipv4: {
      if (s.length === 0) return undefined;
      const v = parseIpv4Strict(s, false);
      return v < 0 ? bad() : v;
    }
    case ArgT.Msk4: {
      if (s.length === 0) return undefined;
      const v = parseMask4(s);
      return v < 0 ? bad() : v;
    }
    case ArgT.Ipv6: {
      if (s.length === 0) return undefined;
      const b = new Uint8Array(16);
      return parseIpv6(s, b) ? b : bad();
    }
    case ArgT.Msk6: {
      if (s.length === 0) return undefined;
      const b = new Uint8Array(16);
      return parseMask6(s, b) ? b : bad();
    }
    default:
      return s;
  }
}
