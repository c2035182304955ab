// What an action parser receives (the words of its rule and helpers bound to the rule's
// context) and what it returns (the action to run). Parsers throw plain Errors whose message is
// HAProxy's text; the dispatcher (compile.ts) frames them.

import type { Condition, SampleExpr, SampleRef } from '../../acl/index.js';
import type { RuleString } from './lf.js';
import type { ReplyEnv } from './reply.js';
import type { RuleContext, RuleDir, RuleWhere, Verdict } from './types.js';

export interface ActionParse {
  readonly dir: RuleDir;
  /** The action word as written ("set-header", "set-var(txn.x)"). */
  readonly action: string;
  readonly words: readonly string[];
  /** Index of the first argument (the word after the action). */
  readonly start: number;
  readonly where: RuleWhere;
  /** References collected from every expression of the rule. */
  readonly refs: SampleRef[];
  /** The word at `i`, "" past the end (HAProxy's argument array ends with empty strings). */
  arg(i: number): string;
  /** Compiles a log-format argument in the rule's direction; `http` = header-safe output (default). */
  lf(text: string, http?: boolean): RuleString;
  /**
   * Compiles the sample expression at words[i]; following words that name converters are taken
   * as more converters, as HAProxy's sample_parse_expr does. Returns the index after it.
   */
  expr(i: number): { expr: SampleExpr; next: number };
  /** Compiles the condition whose `if`/`unless` is at words[i] (actions that own their condition). */
  cond(i: number): Condition;
  /** What reply parsing needs. */
  replyEnv(): ReplyEnv;
  warn(message: string): void;
}

export interface ParsedAction {
  run(ctx: RuleContext): Verdict;
  /** Index of the word after the action's arguments (where `if`/`unless` may follow). */
  next: number;
  /** The action ends the rule list when it applies (HAProxy's ACT_FLAG_FINAL). */
  final?: boolean;
  /** Set by actions that parse their own condition (redirect); `next` is then the end. */
  cond?: Condition | null;
  captureLen?: number;
}

export type ActionParser = (p: ActionParse) => ParsedAction;

/** True for the words that start a condition. */
export function isCondWord(w: string): boolean {
  return w === 'if' || w === 'unless';
}

/** True when words[i] ends the arguments: nothing more, or a condition. */
export function endsArgs(p: ActionParse, i: number): boolean {
  const w = p.arg(i);
  return w === '' || isCondWord(w);
}
