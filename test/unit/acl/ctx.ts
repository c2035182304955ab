// A fake SampleCtx for the ACL engine tests: requests and responses written as raw HTTP/1 text
// ("GET / HTTP/1.1\r\nHost: a\r\n\r\n") become htx messages; everything else has defaults that
// each test can override.

import { BodyKind, type HtxRequest, type HtxResponse } from '../../../src/htx/index.js';
import { AclTable, compileCondition, type CompileOptions, type Condition } from '../../../src/acl/index.js';
import type { SampleCtx, SampleValue, VarScope } from '../../../src/acl/index.js';

function parseHead(raw: string): { start: string[]; headers: string[]; version: number } {
  const [head] = raw.split('\r\n\r\n');
  const lines = head!.split('\r\n');
  const start = lines[0]!.split(' ');
  const headers: string[] = [];
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    headers.push(l.slice(0, c), l.slice(c + 1).trim());
  }
  return { start, headers, version: 0 };
}

function versionOf(v: string): number {
  return v === 'HTTP/2.0' ? 20 : v === 'HTTP/1.0' ? 10 : 11;
}

/** Builds an HtxRequest from "METHOD URI VERSION\r\nName: value\r\n...\r\n\r\n". */
export function req(raw: string): HtxRequest {
  const { start, headers } = parseHead(raw);
  const cl = headers.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-length');
  return {
    method: start[0]!,
    uri: start[1]!,
    version: versionOf(start[2] ?? 'HTTP/1.1'),
    headers,
    bodyKind: cl >= 0 ? BodyKind.Length : BodyKind.None,
    contentLength: cl >= 0 ? Number(headers[cl + 1]) : -1,
    wantClose: false,
    expectContinue: false,
    upgrade: '',
  };
}

/** Builds an HtxResponse from "HTTP/1.1 200 OK\r\nName: value\r\n\r\n". */
export function res(raw: string): HtxResponse {
  const { start, headers } = parseHead(raw);
  return {
    status: Number(start[1]),
    reason: start.slice(2).join(' '),
    version: versionOf(start[0]!),
    headers,
    bodyKind: BodyKind.None,
    contentLength: -1,
    wantClose: false,
  };
}

export interface FakeCtx extends SampleCtx {
  vars: Map<string, SampleValue>;
  servers: Map<string, boolean>;
}

/** A SampleCtx with a GET / request from 127.0.0.1, overridable field by field. */
export function makeCtx(over: Partial<Omit<FakeCtx, 'vars' | 'servers'>> & { reqRaw?: string; resRaw?: string } = {}): FakeCtx {
  const vars = new Map<string, SampleValue>();
  const servers = new Map<string, boolean>([
    ['be/s1', true],
    ['be/s2', false],
  ]);
  const { reqRaw, resRaw, ...rest } = over;
  const ctx: FakeCtx = {
    req: reqRaw !== undefined ? req(reqRaw) : req('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n'),
    res: resRaw !== undefined ? res(resRaw) : null,
    status: 0,
    srcAddr: '127.0.0.1',
    srcPort: 40000,
    dstAddr: '127.0.0.1',
    dstPort: 8080,
    sslFc: false,
    sslSni: '',
    feName: 'fe',
    beName: 'be',
    reqBodyBytes: 0,
    feConn: (fe) => (fe === '' || fe === 'fe' ? 3 : 0),
    beConn: (be) => (be === '' || be === 'be' ? 2 : 0),
    nbsrv: (be) => [...servers].filter(([k, up]) => up && k.startsWith(`${be || 'be'}/`)).length,
    srvIsUp: (be, srv) => servers.get(`${be || 'be'}/${srv}`) ?? false,
    getVar: (scope: VarScope, name: string) => vars.get(`${scope}.${name}`),
    setVar: (scope: VarScope, name: string, v: SampleValue) => void vars.set(`${scope}.${name}`, v),
    unsetVar: (scope: VarScope, name: string) => void vars.delete(`${scope}.${name}`),
    env: (name: string) => (name === 'SLUICE_TEST_ENV' ? 'from-env' : undefined),
    vars,
    servers,
    ...rest,
  };
  return ctx;
}


/**
 * Splits a configuration line into words the way the configuration lexer does for the cases
 * used here: blanks separate words, quotes group (and "" is an empty word), backslash escapes.
 */
export function words(line: string): string[] {
  const out: string[] = [];
  let cur: string | null = null;
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (!quote && (c === ' ' || c === '\t')) {
      if (cur !== null) out.push(cur);
      cur = null;
      continue;
    }
    cur ??= '';
    if (c === quote) quote = '';
    else if (!quote && (c === '"' || c === "'")) quote = c;
    else if (c === '\\' && quote !== "'" && i + 1 < line.length) cur += line[++i];
    else cur += c;
  }
  if (cur !== null) out.push(cur);
  return out;
}

/**
 * Compiles `acl <lines...>` (each "name criterion patterns...") into a table, one line number per
 * entry starting at 1, then a condition written on line 1000.
 */
export function condition(acls: string[], cond: string, opts: CompileOptions = {}): { table: AclTable; cond: Condition } {
  const table = new AclTable(opts);
  acls.forEach((l, i) => {
    const w = words(l);
    table.add({ name: w[0]!, args: w.slice(1), file: 'test.cfg', line: i + 1 });
  });
  const w = words(cond);
  const c = compileCondition({ polarity: w[0] as 'if' | 'unless', tokens: w.slice(1), loc: { file: 'test.cfg', line: 1000 } }, table, opts);
  return { table, cond: c };
}

/** Does the ACL "criterion patterns..." match the request? */
export function aclMatches(def: string, ctx: SampleCtx, opts: CompileOptions = {}): boolean {
  return condition([`x ${def}`], 'if x', opts).cond.test(ctx);
}
