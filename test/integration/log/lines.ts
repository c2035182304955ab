// Helpers for the log tests: HAProxy's httplog and tcplog layouts as regular expressions, the
// date they print, and finding the line a given client connection produced (by its source port,
// which every layout starts with), so that a scenario can be run on sluice and on haproxy and
// the two lines compared field by field.
import assert from 'node:assert/strict';
import type { ProcHandle } from '../../harness/index.js';

const DATE = String.raw`\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}\.\d{3}`;

/** `option httplog`: %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %{+Q}r */
export const HTTPLOG = new RegExp(
  String.raw`^(?<ci>[0-9a-f.:]+):(?<cp>\d+) \[(?<date>${DATE})\] (?<ft>\S+) (?<b>[^\s/]+)/(?<s>\S+) ` +
    String.raw`(?<TR>-1|\d+)/(?<Tw>-1|\d+)/(?<Tc>-1|\d+)/(?<Tr>-1|\d+)/(?<Ta>\+?(?:-1|\d+)) ` +
    String.raw`(?<ST>-1|\d{3}) (?<B>\+?\d+) (?<CC>\S+) (?<CS>\S+) (?<tsc>[-A-Za-z]{4}) ` +
    String.raw`(?<ac>\d+)/(?<fc>\d+)/(?<bc>\d+)/(?<sc>\d+)/(?<rc>\+?\d+) (?<sq>\d+)/(?<bq>\d+) "(?<r>[^"]*)"$`,
);

/** `option tcplog`: %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq */
export const TCPLOG = new RegExp(
  String.raw`^(?<ci>[0-9a-f.:]+):(?<cp>\d+) \[(?<date>${DATE})\] (?<ft>\S+) (?<b>[^\s/]+)/(?<s>\S+) ` +
    String.raw`(?<Tw>-1|\d+)/(?<Tc>-1|\d+)/(?<Tt>\+?(?:-1|\d+)) (?<B>\+?\d+) (?<ts>[-A-Za-z]{2}) ` +
    String.raw`(?<ac>\d+)/(?<fc>\d+)/(?<bc>\d+)/(?<sc>\d+)/(?<rc>\+?\d+) (?<sq>\d+)/(?<bq>\d+)$`,
);

export type Fields = Record<string, string>;

/** The named fields of `line` in `layout`; fails the test when the line does not match. */
export function fields(layout: RegExp, line: string): Fields {
  const m = layout.exec(line);
  assert.ok(m?.groups, `not in the expected layout:\n${line}\n${layout}`);
  return m.groups;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Milliseconds since the epoch of a "dd/Mmm/yyyy:HH:MM:SS.mmm" log date (local time). */
export function parseLogDate(s: string): number {
  const m = /^(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})\.(\d{3})$/.exec(s);
  assert.ok(m, `bad log date ${s}`);
  const month = MONTHS.indexOf(m[2]!);
  assert.ok(month >= 0, `bad month in ${s}`);
  return new Date(+m[3]!, month, +m[1]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!).getTime();
}

/**
 * The first output line of `p` (from index `from`) that starts with "127.0.0.1:<clientPort> ",
 * waiting up to timeoutMs; rejects with the output when none comes.
 */
export function lineFor(p: ProcHandle, clientPort: number, timeoutMs = 3000, from = 0): Promise<string> {
  return p.waitForLine((l) => l.startsWith(`127.0.0.1:${clientPort} `), timeoutMs, from);
}

/** Every output line of `p` for `clientPort` so far. */
export function linesFor(p: ProcHandle, clientPort: number): string[] {
  return p
    .lines()
    .map((l) => l.text)
    .filter((l) => l.startsWith(`127.0.0.1:${clientPort} `));
}

/** Resolves after ms. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
