// What the benchmark measures: CPU time of a process tree from /proc, and the load generators'
// reports (wrk for HTTP/1.1, h2load for HTTP/2).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

let ticks = 0;

/** Clock ticks per second of /proc times (`getconf CLK_TCK`, 100 when getconf is missing). */
export function clockTicks(): number {
  if (ticks === 0) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

interface Stat {
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  total: number;
}

function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
  return { ppid: Number(f[1]), total: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
}

/**
 * CPU time, in clock ticks, used so far by `pid` and every live descendant (all their threads,
 * and the children they already reaped). Without descendants this is utime+stime of the process.
 */
export function treeCpuTicks(pid: number): number {
  const all = new Map<number, Stat>();
  for (const name of fs.readdirSync('/proc')) {
    const n = Number(name);
    if (!Number.isInteger(n)) continue;
    const s = readStat(n);
    if (s) all.set(n, s);
  }
  const root = all.get(pid);
  if (!root) return 0;
  let sum = 0;
  const todo = [pid];
  const seen = new Set<number>();
  while (todo.length > 0) {
    const p = todo.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    sum += all.get(p)!.total;
    for (const [child, s] of all) if (s.ppid === p) todo.push(child);
  }
  return sum;
}

export interface WrkReport {
  requests: number;
  durationS: number;
  requestsPerSec: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  /** Socket errors (connect + read + write + timeout). */
  socketErrors: number;
  non2xx3xx: number;
}

function toMs(value: string, unit: string): number {
  const v = Number(value);
  switch (unit) {
    case 'us':
      return v / 1000;
    case 'ms':
      return v;
    case 's':
      return v * 1000;
    case 'm':
      return v * 60000;
    default:
      return NaN;
  }
}

function durationSeconds(value: string, unit: string): number {
  return toMs(value, unit) / 1000;
}

/** Parses the text `wrk --latency` prints. Throws when the request count is missing. */
export function parseWrk(out: string): WrkReport {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m),/.exec(out);
  if (!total) throw new Error(`cannot read wrk output:\n${out}`);
  const pct = (p: string): number | null => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? toMs(m[1]!, m[2]!) : null;
  };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const requests = Number(total[1]);
  const durationS = durationSeconds(total[2]!, total[3]!);
  return {
    requests,
    durationS,
    requestsPerSec: rps ? Number(rps[1]) : requests / durationS,
    latencyP50Ms: pct('50'),
    latencyP99Ms: pct('99'),
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    non2xx3xx: non ? Number(non[1]) : 0,
  };
}

/**
 * Busy time of each CPU so far, in clock ticks, from /proc/stat (user, nice, system, irq,
 * softirq, steal; idle and iowait excluded). Index = CPU number.
 */
export function cpuBusyTicks(): number[] {
  const out: number[] = [];
  for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const [user, nice, system, , , irq, softirq, steal] = m[2]!.trim().split(/\s+/).map(Number);
    out[Number(m[1])] = user! + nice! + system! + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  }
  return out;
}

export interface H2loadReport {
  /** Requests of the measured phase (h2load's "total"; the warm-up is not counted). */
  requests: number;
  succeeded: number;
  /** Every request that did not get a 2xx/3xx answer: HTTP-level failures, `errored` and timeouts. */
  failed: number;
  /** The part of `failed` that got no answer at all (connection error, RST_STREAM). */
  errored: number;
  timeout: number;
  /** 4xx and 5xx answers (a part of `failed`). */
  non2xx3xx: number;
  requestsPerSec: number;
  /** Length of the measured phase, requests / req/s: h2load's "finished in" includes the warm-up. */
  durationS: number;
  /** h2load's "finished in": the whole run, warm-up included. */
  finishedS: number;
}

/** Parses the summary h2load prints. Throws when the request counts or the timing are missing. */
export function parseH2load(out: string): H2loadReport {
  const req = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const fin = /finished in ([\d.]+)(us|ms|s|m), ([\d.]+) req\/s/.exec(out);
  if (!req || !fin) throw new Error(`cannot read h2load output:\n${out}`);
  const status = /status codes: \d+ 2xx, \d+ 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const requests = Number(req[1]);
  const requestsPerSec = Number(fin[3]);
  const finishedS = durationSeconds(fin[1]!, fin[2]!);
  return {
    requests,
    succeeded: Number(req[2]),
    failed: Number(req[3]),
    errored: Number(req[4]),
    timeout: Number(req[5]),
    non2xx3xx: status ? Number(status[1]) + Number(status[2]) : 0,
    requestsPerSec,
    durationS: requestsPerSec > 0 ? requests / requestsPerSec : finishedS,
    finishedS,
  };
}
