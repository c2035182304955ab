// Regular expressions of rules (replace-header, replace-value, replace-path, replace-uri,
// del-header -m reg), compiled once, with the error texts HAProxy's PCRE2 build prints, and
// HAProxy's replacement syntax (regex.c exp_replace): \0..\9 insert a group, \xHH a byte, a
// backslash before any other character keeps that character.

import { toBytes } from './text.js';

// V8 messages and the PCRE2 wording for the mistakes people make.
const PCRE_MESSAGES: ReadonlyArray<readonly [string, string, boolean]> = [
  // [V8 message, PCRE2 message, offset is the pattern length]
  ['Unterminated group', 'missing closing parenthesis', true],
  ['Unterminated character class', 'missing terminating ] for character class', true],
  ['\\ at end of pattern', '\\ at end of pattern', true],
  ["Unmatched ')'", 'unmatched closing parenthesis', false],
  ['Nothing to repeat', 'quantifier does not follow a repeatable item', false],
  ['numbers out of order in {} quantifier', 'numbers out of order in {} quantifier', false],
  ['Invalid group', 'unrecognized character after (? or (?-', false],
];

function v8Reason(e: unknown): string {
  return (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
}

/** The offset PCRE2 reports: where the shortest failing prefix ends. */
function errorOffset(src: string, flags: string, reason: string): number {
  for (let len = 1; len <= src.length; len++) {
    try {
      new RegExp(src.slice(0, len), flags);
    } catch (e) {
      if (v8Reason(e) === reason) return len - 1;
    }
  }
  return 0;
}

/**
 * Compiles a rule regex (case-sensitive, as HAProxy's regex_comp with cs=1). A leading "(?i)"
 * makes it case-insensitive as in PCRE. Throws an Error with HAProxy's text:
 * "regex '<src>' is invalid (error=<reason>, erroffset=<n>)".
 */
export function compileRuleRegex(source: string): RegExp {
  let s = toBytes(source);
  let flags = '';
  let shift = 0;
  if (s.startsWith('(?i)')) {
    s = s.slice(4);
    flags = 'i';
    shift = 4;
  }
  try {
    return new RegExp(s, flags);
  } catch (e) {
    const reason = v8Reason(e);
    const known = PCRE_MESSAGES.find((m) => m[0] === reason);
    const text = known ? known[1] : reason;
    const off = known && known[2] ? s.length : errorOffset(s, flags, reason);
    throw new Error(`regex '${source}' is invalid (error=${text}, erroffset=${off + shift})`);
  }
}

function hexNibble(c: number): number {
  // HAProxy's arithmetic, faithful even for characters that are not hex digits.
  let v = (c >= 97 && c <= 122 ? c - 32 : c) - 48;
  if (v > 9) v -= 7;
  return v & 0xff;
}

/**
 * Expands `template` with the groups of `m` (HAProxy's exp_replace): the whole result replaces
 * the matched value. Returns null when the template ends with a lone backslash or a truncated
 * \x escape (HAProxy then fails the rewrite).
 */
export function expandReplacement(template: string, m: RegExpExecArray): string | null {
  if (template.indexOf('\\') < 0) return template;
  let out = '';
  const n = template.length;
  let i = 0;
  while (i < n) {
    const c = template.charCodeAt(i);
    if (c !== 92) {
      out += template[i];
      i++;
      continue;
    }
    i++;
    if (i >= n) return null;
    const d = template.charCodeAt(i);
    if (d >= 48 && d <= 57) {
      const g = m[d - 48];
      if (g !== undefined) out += g;
      i++;
    } else if (d === 120) {
      if (i + 2 >= n) return null;
      const h1 = template.charCodeAt(i + 1);
      const h2 = template.charCodeAt(i + 2);
      out += String.fromCharCode(((hexNibble(h1) << 4) + hexNibble(h2)) & 0xff);
      i += 3;
    } else {
      out += template[i];
      i++;
    }
  }
  return out;
}
