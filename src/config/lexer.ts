// Splits one configuration line into words with HAProxy's rules (configuration.txt 2.2 and 2.3,
// tools.c parse_line): blanks separate words; '#' starts a comment; "weak" double quotes keep
// blanks and expand environment variables; 'strong' single quotes keep everything; backslash
// escapes \<space> \# \\ \' \" \$ (in double quotes) \t \n \r \xHH. Environment variables are
// expanded inside double quotes only: "$NAME", "${NAME}", "${NAME-default}" and "${NAME[*]}"
// (which splits the value into several words). There is no line continuation: a trailing
// backslash is an ordinary character.

export type LexErrorKind = 'quote' | 'brace' | 'varname' | 'hex' | 'expand';

/** Values of the pseudo-variables ${.FILE}, ${.LINE} and ${.SECTION}. */
export interface LexPseudo {
  file: string;
  line: number;
  section: string;
}

export type LexResult =
  | {
      ok: true;
      args: string[];
      /** Where each word starts in the line (0-based), for error carets. */
      starts: number[];
      /** Where the first empty word comes from: its start, or the unset variable that emptied it. */
      emptyAt?: number;
    }
  | { ok: false; kind: LexErrorKind; pos: number };

export type Env = Record<string, string | undefined>;

/** Tokenizes `line` (without its end-of-line) into words, or reports the first lexical error. */
export function lexLine(line: string, env: Env, pseudo: LexPseudo): LexResult {
  const args: string[] = [];
  const starts: number[] = [];
  let cur: string | null = null; // word being built; null between words
  let curStart = 0;
  let quote: 'single' | 'double' | null = null;
  let quotePos = -1;
  let emptyQuote = false;
  let emptyAt: number | undefined;
  let unknownVarPos: number | undefined;

  const begin = (pos: number): void => {
    if (cur === null) {
      cur = '';
      curStart = pos;
    }
  };
  const emit = (s: string, pos: number): void => {
    begin(pos);
    cur += s;
  };
  const finish = (): void => {
    if (cur === null) return;
    if (cur === '' && emptyAt === undefined) emptyAt = unknownVarPos ?? curStart;
    args.push(cur);
    starts.push(curStart);
    cur = null;
    unknownVarPos = undefined;
  };

  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === '\n' || c === '\r' || c === '\0') break;
    if (c === '#' && quote === null) break;

    if (c === '"' && quote !== 'single') {
      if (quote === 'double') {
        if (emptyQuote) begin(i);
        quote = null;
      } else {
        quote = 'double';
        quotePos = i;
        emptyQuote = true;
      }
      i++;
      continue;
    }
    if (c === "'" && quote !== 'double') {
      if (quote === 'single') {
        if (emptyQuote) begin(i);
        quote = null;
      } else {
        quote = 'single';
        quotePos = i;
        emptyQuote = true;
      }
      i++;
      continue;
    }
    if (c === '\\' && quote !== 'single') {
      const next = line[i + 1];
      let out = '\\';
      let consumed = 1;
      switch (next) {
        case ' ':
        case '\\':
        case '#':
        case "'":
        case '"':
          out = next;
          consumed = 2;
          break;
        case 't':
          out = '\t';
          consumed = 2;
          break;
        case 'n':
          out = '\n';
          consumed = 2;
          break;
        case 'r':
          out = '\r';
          consumed = 2;
          break;
        case '$':
          if (quote === 'double') {
            out = '$';
            consumed = 2;
          }
          break;
        case 'x': {
          const hex = line.slice(i + 2, i + 4);
          if (!/^[0-9a-fA-F]{2}$/.test(hex)) return { ok: false, kind: 'hex', pos: i };
          out = String.fromCharCode(parseInt(hex, 16));
          consumed = 4;
          break;
        }
        default:
          break;
      }
      emit(out, i);
      emptyQuote = false;
      i += consumed;
      continue;
    }
    if (isBlank(c) && quote === null) {
      finish();
      while (i < line.length && isBlank(line[i])) i++;
      continue;
    }
    if (c === '$' && quote === 'double') {
      const r = expandVariable(line, i, env, pseudo);
      if (!r.ok) return r;
      emptyQuote = false;
      if (r.value === undefined) {
        if (!r.wordExpand) {
          // An unset variable still makes a word, possibly empty.
          begin(i);
          if (unknownVarPos === undefined) unknownVarPos = r.nameStart;
        }
      } else if (r.wordExpand) {
        for (const ch of r.value) {
          if (isBlank(ch)) finish();
          else emit(ch, i);
        }
      } else {
        emit(r.value, i);
      }
      i = r.end;
      continue;
    }
    emit(c, i);
    emptyQuote = false;
    i++;
  }
  if (quote !== null) return { ok: false, kind: 'quote', pos: quotePos };
  finish();
  return emptyAt === undefined ? { ok: true, args, starts } : { ok: true, args, starts, emptyAt };
}

type VarResult =
  | { ok: true; value: string | undefined; wordExpand: boolean; end: number; nameStart: number }
  | { ok: false; kind: LexErrorKind; pos: number };

function expandVariable(line: string, dollar: number, env: Env, pseudo: LexPseudo): VarResult {
  let i = dollar + 1;
  let brace = -1;
  if (line[i] === '{') brace = i++;
  const nameStart = i;
  if (!/[A-Za-z_.]/.test(line[i] ?? '')) return { ok: false, kind: 'varname', pos: i };
  if (line[i] === '.') i++;
  while (i < line.length && /[A-Za-z0-9_]/.test(line[i])) i++;
  const name = line.slice(nameStart, i);
  let value: string | undefined;
  if (name.startsWith('.')) {
    if (name === '.LINE') value = String(pseudo.line);
    else if (name === '.FILE') value = pseudo.file;
    else if (name === '.SECTION') value = pseudo.section;
    else return { ok: false, kind: 'varname', pos: nameStart };
  } else {
    value = env[name];
  }
  let wordExpand = false;
  if (line[i] === '[' && brace >= 0) {
    if (line[i + 1] !== '*' || line[i + 2] !== ']') return { ok: false, kind: 'expand', pos: i };
    wordExpand = true;
    i += 3;
  }
  if (brace >= 0) {
    if (line[i] === '-') {
      const close = line.indexOf('}', i);
      if (close < 0) return { ok: false, kind: 'brace', pos: brace };
      // The default replaces unset variables only, never empty ones.
      if (value === undefined) value = line.slice(i + 1, close);
      i = close;
    } else if (line[i] !== '}') {
      return { ok: false, kind: 'brace', pos: brace };
    }
    i++;
  }
  return { ok: true, value, wordExpand, end: i, nameStart };
}

function isBlank(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\v' || c === '\f';
}

/**
 * HAProxy's legacy expansion used on addresses (tools.c env_expand): `$NAME` and `${NAME}` are
 * replaced anywhere in the word, unquoted, and unset variables become empty.
 */
export function envExpandLegacy(str: string, env: Env): string {
  return str.replace(/\$(\{)?([A-Za-z0-9_]*)(\})?/g, (_m, open: string | undefined, name: string, close: string | undefined) => {
    const value = env[name] ?? '';
    // A closing brace is consumed only when an opening one was present.
    return open && close ? value : value + (close ?? '');
  });
}

/** Renders a line for an error report with a caret under `pos` (tools.c sanitize_for_printing). */
export function caretLines(line: string, pos: number, width = 80): string {
  let shown = '';
  let shift = 0;
  let text = line;
  let end = width;
  let prefix = '';
  if (pos >= width) {
    shift = pos - Math.floor(width / 2);
    text = line.slice(shift + 3);
    end = width - 6;
    prefix = '...';
  }
  for (const ch of text.slice(0, end)) {
    const code = ch.charCodeAt(0);
    if (/\s/.test(ch)) shown += ' ';
    else if (code >= 0x20 && code < 0x7f) shown += ch;
    else shown += '?';
  }
  const suffix = prefix ? '...' : '';
  const col = pos - shift;
  return `  ${prefix}${shown}${suffix}\n  ${' '.repeat(col)}^`;
}
