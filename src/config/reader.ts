// Reads one configuration file line by line (cfgparse.c readcfgfile): tokenizes each line,
// applies the conditional blocks (.if/.elif/.else/.endif) and the message directives
// (.notice/.warning/.alert/.diag), refuses empty words, and hands every remaining statement to
// the section dispatcher.

import { evalCondition, type CondContext } from './cond.js';
import { caretLines, lexLine, type LexErrorKind } from './lexer.js';
import type { SourceLoc } from './model.js';
import type { ParserState } from './state.js';

/** What the dispatcher tells the reader after a statement. */
export type StatementResult = 'continue' | 'stop-file' | 'abort';

export type StatementHandler = (args: string[], loc: SourceLoc) => StatementResult;

const LEX_MESSAGES: Record<LexErrorKind, string> = {
  quote: 'unmatched quote',
  brace: 'unmatched brace in environment variable name',
  varname: 'forbidden first char in environment variable name',
  hex: 'truncated or invalid hexadecimal sequence',
  expand: 'truncated or invalid word expansion sequence',
};

type CondState = 'if-take' | 'if-drop' | 'if-skip' | 'elif-take' | 'elif-drop' | 'elif-skip' | 'else-take' | 'else-drop';

const MAX_NESTED_CONDS = 100;
const MAX_FATAL_PER_FILE = 50;

/**
 * Reads `text` as configuration file `file`. Returns 'abort' when HAProxy would stop reading
 * all files (an `.alert` directive or a broken conditional block).
 */
export function readConfigText(
  text: string,
  file: string,
  state: ParserState,
  cond: Omit<CondContext, 'env'>,
  handle: StatementHandler,
): 'done' | 'abort' {
  const diags = state.diags;
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const conds: CondState[] = [];
  let warnedEmpty = false;
  const fatalBefore = diags.fatalCount();

  for (let idx = 0; idx < lines.length; idx++) {
    const raw = lines[idx];
    const loc: SourceLoc = { file, line: idx + 1 };
    const report = diags.at(loc);
    if (diags.fatalCount() - fatalBefore >= MAX_FATAL_PER_FILE) {
      report.alert(`too many fatal errors (${MAX_FATAL_PER_FILE}), stopping now.`, 'parsing:');
      return 'done';
    }
    const lead = raw.length - raw.replace(/^\s+/, '').length;
    const line = raw.slice(lead);
    const lex = lexLine(raw, state.env, { file, line: idx + 1, section: sectionName(state) });
    if (!lex.ok) {
      report.alert(`${LEX_MESSAGES[lex.kind]} at position ${lex.pos + 1}:\n${caretLines(line, lex.pos - lead)}`, 'parsing:');
      continue;
    }
    const args = lex.args;
    if (args.length === 0) continue;

    // Conditional blocks.
    if (args[0].startsWith('.')) {
      const top = conds.length ? conds[conds.length - 1] : undefined;
      const masked = top === 'if-drop' || top === 'if-skip' || top === 'elif-drop' || top === 'elif-skip' || top === 'else-drop';
      const word = args[0];
      if (word === '.if' || word === '.elif') {
        const expr = args.slice(1).join(' ');
        if (word === '.if') {
          if (conds.length + 1 >= MAX_NESTED_CONDS) {
            report.alert(`too many nested '.if', max is ${MAX_NESTED_CONDS}.`, 'parsing:');
            return 'abort';
          }
          if (masked) {
            conds.push('if-skip');
            continue;
          }
        } else {
          if (!top) {
            report.alert("lone '.elif' with no matching '.if'.", 'parsing:');
            return 'abort';
          }
          if (top === 'else-take' || top === 'else-drop') {
            report.alert("'.elif' after '.else' is not permitted.", 'parsing:');
            return 'abort';
          }
          if (top === 'if-take' || top === 'if-skip' || top === 'elif-take' || top === 'elif-skip') {
            conds[conds.length - 1] = 'elif-skip';
            continue;
          }
        }
        const r = evalCondition(expr, { ...cond, env: state.env });
        if (!r.ok) {
          const pad = word.length + 1;
          report.alert(
            `${r.error} in '${word}' at position ${r.pos + 1}:\n  ${word} ${expr}\n  ${' '.repeat(r.pos + pad)}^`,
            'parsing:',
          );
          return 'abort';
        }
        if (word === '.if') conds.push(r.value ? 'if-take' : 'if-drop');
        else conds[conds.length - 1] = r.value ? 'elif-take' : 'elif-drop';
        continue;
      }
      if (word === '.else' || word === '.endif') {
        if (args.length > 1) {
          report.alert(`Unexpected argument '${args[1]}' for '${word}'.`, 'parsing:');
          return 'abort';
        }
        if (!top) {
          report.alert(`lone '${word}' with no matching '.if'.`, 'parsing:');
          return 'abort';
        }
        if (word === '.endif') {
          conds.pop();
          continue;
        }
        if (top === 'else-take' || top === 'else-drop') {
          report.alert("'.else' after '.else' is not permitted.", 'parsing:');
          return 'abort';
        }
        conds[conds.length - 1] = top === 'if-drop' || top === 'elif-drop' ? 'else-take' : 'else-drop';
        continue;
      }
    }
    const top = conds.length ? conds[conds.length - 1] : undefined;
    if (top === 'if-drop' || top === 'if-skip' || top === 'elif-drop' || top === 'elif-skip' || top === 'else-drop') continue;

    // Message directives.
    if (args[0].startsWith('.')) {
      const word = args[0];
      if (word === '.alert' || word === '.warning' || word === '.notice' || word === '.diag') {
        if (args.length > 2) {
          report.alert(`Unexpected argument '${args[2]}' for '${word}'. Use quotes if the message should contain spaces.`, 'parsing:');
          continue;
        }
        const msg = `'${args[1] ?? ''}'.`;
        if (word === '.alert') {
          report.alert(msg, 'parsing:');
          return 'abort';
        }
        if (word === '.warning') report.warning(msg, 'parsing:');
        else if (word === '.notice') report.notice(msg, 'parsing:');
        // .diag messages only show in HAProxy's diagnostic mode (-dD), which sluice does not have.
        continue;
      }
      report.alert(`unknown directive '${word}'.`, 'parsing:');
      return 'done';
    }

    // An empty word would silently end the argument list of most keywords.
    const empty = args.indexOf('');
    if (empty >= 0) {
      const at = lex.emptyAt ?? lex.starts[empty];
      const hint = warnedEmpty
        ? ''
        : '\nAborting to prevent all subsequent arguments from being silently ignored. If this is caused by an environment variable expansion, please have a look at section 2.3 of the configuration manual to find solutions to address this.';
      warnedEmpty = true;
      report.alert(
        `argument number ${empty} at position ${at + 1} is empty and marks the end of the argument list:\n${caretLines(line, at - lead)}${hint}`,
        'parsing:',
      );
      continue;
    }

    const r = handle(args, loc);
    if (r === 'abort') return 'abort';
    if (r === 'stop-file') return 'done';
  }
  if (conds.length > 0) {
    diags.alert("non-terminated '.if' block.", { file, line: lines.length }, 'parsing:');
    return 'abort';
  }
  return 'done';
}

/** HAProxy's ${.SECTION}: the section's name, or its type when it has none. */
function sectionName(state: ParserState): string {
  const s = state.section;
  if (!s) return '';
  if (s.proxy && s.proxy.name !== '') return s.proxy.name;
  if (s.resolvers) return s.resolvers.name;
  return s.keyword;
}
