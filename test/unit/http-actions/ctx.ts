// A fake RuleContext for the action tests: the ACL tests' fake SampleCtx (requests written as
// raw HTTP/1 text) plus what rules change on the stream, recorded for the assertions.

import { compileHttpRule, type HttpRule, type RuleDir, type RuleWhere, type RuleContext } from '../../../src/http/actions/index.js';
import { makeCtx, words, type FakeCtx } from '../acl/ctx.js';

export { req, res, words } from '../acl/ctx.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface TestCtx extends Mutable<FakeCtx>, Mutable<Omit<RuleContext, 'fillLogRecord'>> {
  fillLogRecord?: RuleContext['fillLogRecord'];
  logLevel: number | undefined;
  l7RetryDisabled: boolean;
  captures: Map<number, string>;
}

type Over = Partial<Omit<TestCtx, 'vars' | 'servers' | 'captures'>> & { reqRaw?: string; resRaw?: string };

/** A RuleContext around a GET / request from 127.0.0.1:40000 to frontend "fe". */
export function ruleCtx(over: Over = {}): TestCtx {
  const { reqComplete, resComplete, resBodyBytes, bodyLimit, useProxyAuth, ...rest } = over;
  const base = makeCtx(rest as Parameters<typeof makeCtx>[0]) as TestCtx;
  base.reqComplete = reqComplete ?? true;
  base.resComplete = resComplete ?? true;
  base.resBodyBytes = resBodyBytes ?? 0;
  base.bodyLimit = bodyLimit ?? 15360;
  base.useProxyAuth = useProxyAuth ?? false;
  base.logLevel = undefined;
  base.l7RetryDisabled = false;
  base.captures = new Map();
  base.setLogLevel = (l: number) => {
    base.logLevel = l;
  };
  base.disableL7Retry = () => {
    base.l7RetryDisabled = true;
  };
  base.setCapture = (slot: number, v: string) => {
    base.captures.set(slot, v);
  };
  return base;
}

let nextSlot = 0;

/**
 * Compiles one rule ("set-header X y if TRUE", split like the configuration lexer for the simple
 * cases, or already split words) of `dir`, written at test.cfg:1.
 */
export function rule(dir: RuleDir, line: string | string[], where: Partial<RuleWhere> = {}): HttpRule {
  return compileHttpRule(dir, typeof line === 'string' ? words(line) : line, {
    file: 'test.cfg',
    line: 1,
    proxyName: 'fe',
    declareCapture: () => nextSlot++,
    ...where,
  });
}

/** The request head as text, for compact assertions. */
export function headersOf(h: readonly string[]): string {
  let out = '';
  for (let i = 0; i < h.length; i += 2) out += `${h[i]}: ${h[i + 1]}\n`;
  return out;
}

/** The reply bytes as text (latin1). */
export function text(b: Buffer): string {
  return b.toString('latin1');
}
