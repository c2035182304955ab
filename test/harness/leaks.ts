// For leak and load tests: what a process holds and uses (open file descriptors and CPU time,
// from /proc, Linux only), the established TCP connections on a local port (from `ss`), and a
// client that does what most TCP health checkers do: connect, then reset.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { requireBinary } from './bins.js';

/** Open file descriptors of process `pid`. */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Polls (bounded) until the fd count of `pid` is at most `limit`; resolves with the last count. */
export async function fdsSettle(pid: number, limit: number, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let n = fdCount(pid);
  while (n > limit && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    n = fdCount(pid);
  }
  return n;
}

/**
 * Established TCP connections whose local end is 127.0.0.1:`port` (the server side of
 * connections to a listener on that port), as `ss` counts them.
 */
export function establishedOn(port: number): number {
  const out = execFileSync(requireBinary('ss'), ['-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim() !== '').length;
}

/**
 * One health-check-style client: connect to 127.0.0.1:port, then reset at once (the server
 * accepts it: unlike haproxy's own layer-4 checks, node sends the handshake's last ACK at once).
 * Resolves when it is gone, within 5 s.
 */
export function connectAndReset(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve();
    }, 5000);
    s.on('error', () => {});
    s.once('connect', () => s.resetAndDestroy());
    s.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** CPU time (user + system) process `pid` used so far, in ms (Linux: /proc/PID/stat). */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}
