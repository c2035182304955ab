// `http-request` rules compiled once at start-up: their condition and, for `return`, the
// complete response bytes (with and without the body, for HEAD), so that a request that
// matches costs one condition test and one write.

import type { ConditionSpec, HttpRequestRule } from '../config/model.js';
import type { Condition, SampleCtx } from '../acl/index.js';
import { localResponse } from './index.js';

export interface ReturnRule {
  cond: Condition | null;
  status: number;
  /** The whole response, and its head alone (answer to HEAD). */
  full: Buffer;
  head: Buffer;
}

/** Compiles the `http-request` rules of a proxy; `compile` turns a condition into a Condition. */
export function compileRequestRules(rules: readonly HttpRequestRule[], compile: (c: ConditionSpec | undefined) => Condition | null): ReturnRule[] {
  return rules.map((r) => ({
    cond: compile(r.cond),
    status: r.status,
    full: localResponse(r.status, r.contentType, r.body, r.headers, false),
    head: localResponse(r.status, r.contentType, r.body, r.headers, true),
  }));
}

/** The first rule whose condition holds for `ctx`, or null. */
export function firstMatching(rules: readonly ReturnRule[], ctx: SampleCtx): ReturnRule | null {
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    if (r.cond === null || r.cond.test(ctx)) return r;
  }
  return null;
}
