// Side-by-side benchmark: the same proxy configuration run by haproxy and by sluice in front of
// nginx, loaded by wrk; reports throughput, latency and above all CPU time per request.
// Layout on a 2-core host: the proxy alone on core 0; nginx and wrk share core 1.
// Usage: node dist/bench/run.js [--only haproxy|sluice] [--duration 10] [--connections 50]
//        [--threads 1] [--warmup 2] [--body-size 100] [--haproxy-nbthread 1] [--out FILE]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  freePort,
  repoRoot,
  request,
  requireBinary,
  startHaproxy,
  startNginx,
  startProcess,
  startSluice,
  type NginxHandle,
  type ProcHandle,
} from '../test/harness/index.js';
import { clockTicks, cpuBusyTicks, parseWrk, treeCpuTicks, type WrkReport } from './measure.js';

type ProxyName = 'haproxy' | 'sluice';

interface Params {
  only: ProxyName | null;
  durationS: number;
  connections: number;
  threads: number;
  warmupS: number;
  bodySize: number;
  haproxyNbthread: number;
  proxyCpu: string;
  peerCpu: string;
  out: string;
}

interface Row {
  proxy: ProxyName;
  ok: boolean;
  error?: string;
  version?: string;
  requests?: number;
  durationS?: number;
  requestsPerSec?: number;
  cpuSeconds?: number;
  cpuUsPerRequest?: number;
  /** Share of its core the proxy used during the run: near 100 means the proxy was the bottleneck. */
  cpuPercent?: number;
  latencyP50Ms?: number | null;
  latencyP99Ms?: number | null;
  socketErrors?: number;
  non2xx3xx?: number;
  /** CPU seconds spent on the proxy's core by anything else during the run (should be ~0). */
  proxyCoreOtherSeconds?: number;
  /** Busy share of the core nginx and wrk share (near 100: the load side may be the limit). */
  peerCorePercent?: number;
}

function usage(msg: string): never {
  console.error(`bench: ${msg}`);
  console.error(
    'usage: run.js [--only haproxy|sluice] [--duration S] [--connections N] [--threads N] [--warmup S]\n' +
      '              [--body-size BYTES] [--haproxy-nbthread N] [--out FILE]\n' +
      'env: BENCH_ONLY, BENCH_DURATION, BENCH_CONNECTIONS, BENCH_THREADS, BENCH_WARMUP, BENCH_PROXY_CPU, BENCH_PEER_CPU',
  );
  process.exit(2);
}

function seconds(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m)?$/.exec(v);
  if (!m) usage(`bad duration '${v}'`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
}

function positive(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) usage(`bad ${what} '${v}'`);
  return n;
}

function parseArgs(argv: string[]): Params {
  const env = process.env;
  const oneCore = os.cpus().length < 2;
  const p: Params = {
    only: null,
    durationS: seconds(env.BENCH_DURATION ?? '10'),
    connections: positive(env.BENCH_CONNECTIONS ?? '50', 'connections'),
    threads: positive(env.BENCH_THREADS ?? '1', 'threads'),
    warmupS: seconds(env.BENCH_WARMUP ?? '2'),
    bodySize: 100,
    haproxyNbthread: 1,
    proxyCpu: env.BENCH_PROXY_CPU ?? '0',
    peerCpu: env.BENCH_PEER_CPU ?? (oneCore ? '0' : '1'),
    out: path.join(repoRoot(), 'bench', 'results', 'latest.json'),
  };
  const only = env.BENCH_ONLY;
  if (only) p.only = only === 'haproxy' || only === 'sluice' ? only : usage(`bad BENCH_ONLY '${only}'`);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = (): string => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    switch (flag) {
      case '--only': {
        const v = val();
        if (v !== 'haproxy' && v !== 'sluice') usage(`--only takes haproxy or sluice, not '${v}'`);
        p.only = v;
        break;
      }
      case '--duration':
      case '-d':
        p.durationS = seconds(val());
        break;
      case '--connections':
      case '-c':
        p.connections = positive(val(), 'connections');
        break;
      case '--threads':
      case '-t':
        p.threads = positive(val(), 'threads');
        break;
      case '--warmup':
        p.warmupS = seconds(val());
        break;
      case '--body-size':
        p.bodySize = positive(val(), 'body size');
        break;
      case '--haproxy-nbthread':
        p.haproxyNbthread = positive(val(), 'nbthread');
        break;
      case '--out':
        p.out = path.resolve(val());
        break;
      case '--help':
      case '-h':
        usage('help');
        break;
      default:
        usage(`unknown argument '${a}'`);
    }
  }
  return p;
}

/** The one configuration both proxies run (nbthread differs only if asked on the command line). */
export function proxyConfig(port: number, originPort: number, nbthread: number): string {
  return `global
    maxconn 4096
    nbthread ${nbthread}

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    http-reuse safe

frontend bench
    bind 127.0.0.1:${port}
    default_backend origin

backend origin
    server nginx 127.0.0.1:${originPort}
`;
}

async function runWrk(p: Params, url: string, durationS: number): Promise<WrkReport> {
  const wrk = requireBinary('wrk');
  const proc = await startProcess(
    'wrk',
    [wrk, `-t${p.threads}`, `-c${p.connections}`, `-d${Math.max(1, Math.round(durationS))}s`, '--latency', url],
    { cpus: p.peerCpu },
  );
  const exit = await proc.waitExit((durationS + 30) * 1000);
  const out = proc.output();
  await proc.stop();
  if (exit.code !== 0) throw new Error(`wrk failed (code ${exit.code}):\n${out}`);
  return parseWrk(out);
}

function firstLines(text: string, n: number): string {
  return text.split('\n').slice(0, n).join('\n');
}

function versionOf(bin: string, args: string[]): string | undefined {
  try {
    return execFileSync(bin, args, { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] })
      .split('\n')[0]!
      .trim();
  } catch {
    return undefined;
  }
}

async function benchOne(name: ProxyName, p: Params, nginx: NginxHandle): Promise<Row> {
  const port = await freePort();
  const nbthread = name === 'haproxy' ? p.haproxyNbthread : 1;
  const cfg = proxyConfig(port, nginx.port, nbthread);
  const start = name === 'haproxy' ? startHaproxy : startSluice;
  let proc: ProcHandle;
  try {
    proc = await start(cfg, { waitPorts: [port], cpus: p.proxyCpu, startTimeoutMs: 15000 });
  } catch (e) {
    return { proxy: name, ok: false, error: `failed to start: ${firstLines((e as Error).message, 25)}` };
  }
  try {
    const version =
      name === 'haproxy' ? versionOf(requireBinary('haproxy'), ['-v']) : versionOf(path.join(repoRoot(), 'bin', 'sluice'), ['-v']);
    const probe = await request(port, { path: '/', timeoutMs: 5000 }).catch((e: Error) => e);
    if (probe instanceof Error || probe.status !== 200) {
      const what = probe instanceof Error ? probe.message : `status ${probe.status}`;
      return { proxy: name, ok: false, version, error: `probe request failed: ${what}` };
    }
    const url = `http://127.0.0.1:${port}/`;
    if (p.warmupS > 0) await runWrk(p, url, p.warmupS);
    const cores0 = cpuBusyTicks();
    const before = treeCpuTicks(proc.pid);
    const w = await runWrk(p, url, p.durationS);
    const after = treeCpuTicks(proc.pid);
    const cores1 = cpuBusyTicks();
    const coreBusy = (cpu: string): number | undefined => {
      const i = Number(cpu);
      return Number.isInteger(i) && cores1[i] !== undefined ? (cores1[i]! - cores0[i]!) / clockTicks() : undefined;
    };
    if (proc.exited) throw new Error(`${name} exited during the run\n${proc.describe()}`);
    const cpuSeconds = (after - before) / clockTicks();
    return {
      proxy: name,
      ok: true,
      version,
      requests: w.requests,
      durationS: w.durationS,
      requestsPerSec: w.requestsPerSec,
      cpuSeconds,
      cpuUsPerRequest: w.requests > 0 ? (cpuSeconds * 1e6) / w.requests : undefined,
      cpuPercent: (cpuSeconds / w.durationS) * 100,
      latencyP50Ms: w.latencyP50Ms,
      latencyP99Ms: w.latencyP99Ms,
      socketErrors: w.socketErrors,
      non2xx3xx: w.non2xx3xx,
      proxyCoreOtherSeconds: Math.max(0, (coreBusy(p.proxyCpu) ?? cpuSeconds) - cpuSeconds),
      peerCorePercent: ((coreBusy(p.peerCpu) ?? NaN) / w.durationS) * 100,
    };
  } catch (e) {
    return { proxy: name, ok: false, error: (e as Error).message };
  } finally {
    await proc.stop();
  }
}

function fmt(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

function printTable(rows: Row[], ratio: number | null): void {
  const head = ['proxy', 'req/s', 'requests', 'CPU s', 'CPU %', 'CPU us/req', 'p50 ms', 'p99 ms', 'errors', 'peer core %'];
  const lines = rows
    .filter((r) => r.ok)
    .map((r) => [
      r.proxy,
      fmt(r.requestsPerSec, 0),
      String(r.requests),
      fmt(r.cpuSeconds, 2),
      fmt(r.cpuPercent, 0),
      fmt(r.cpuUsPerRequest, 2),
      fmt(r.latencyP50Ms, 3),
      fmt(r.latencyP99Ms, 3),
      String((r.socketErrors ?? 0) + (r.non2xx3xx ?? 0)),
      fmt(r.peerCorePercent, 0),
    ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(row(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(row(l));
  for (const r of rows.filter((x) => x.ok)) {
    const other = r.proxyCoreOtherSeconds ?? 0;
    if (other > 0.05 * (r.cpuSeconds ?? 0)) {
      console.log(`warning: ${r.proxy}: other processes used ${other.toFixed(2)} CPU s on the proxy's core; rerun on a quiet host`);
    }
    if ((r.cpuPercent ?? 100) < 90 && (r.peerCorePercent ?? 0) > 95) {
      console.log(`note: ${r.proxy}: the nginx+wrk core was saturated (${fmt(r.peerCorePercent, 0)}%): req/s is load-bound, CPU us/req still holds`);
    }
  }
  for (const r of rows.filter((x) => !x.ok)) console.log(`${r.proxy}: ${r.error}`);
  if (ratio !== null) console.log(`\nsluice/haproxy CPU per request: ${ratio.toFixed(2)}x`);
}

async function main(): Promise<void> {
  const p = parseArgs(process.argv.slice(2));
  for (const b of ['nginx', 'wrk', 'taskset']) requireBinary(b);
  const proxies: ProxyName[] = p.only ? [p.only] : ['haproxy', 'sluice'];
  if (proxies.includes('haproxy')) requireBinary('haproxy');
  if (p.proxyCpu === p.peerCpu) console.error('bench: warning: proxy and load generator share a core; figures are not comparable');

  console.log(
    `bench: wrk -t${p.threads} -c${p.connections} -d${p.durationS}s (warm-up ${p.warmupS}s), ` +
      `${p.bodySize}-byte body; proxy on CPU ${p.proxyCpu}, nginx+wrk on CPU ${p.peerCpu}, haproxy nbthread ${p.haproxyNbthread}`,
  );
  const nginx = await startNginx({ body: 'x'.repeat(p.bodySize - 1) + '\n', cpus: p.peerCpu });
  const rows: Row[] = [];
  try {
    for (const name of proxies) {
      console.log(`bench: running ${name} ...`);
      const r = await benchOne(name, p, nginx);
      if (!r.ok) console.log(`bench: ${name} failed: ${firstLines(r.error ?? '', 3)}`);
      rows.push(r);
    }
  } finally {
    await nginx.stop();
  }

  const cpu = (n: ProxyName): number | undefined => rows.find((r) => r.proxy === n && r.ok)?.cpuUsPerRequest;
  const h = cpu('haproxy');
  const s = cpu('sluice');
  const ratio = h !== undefined && s !== undefined && h > 0 ? s / h : null;
  console.log('');
  printTable(rows, ratio);

  const result = {
    date: new Date().toISOString(),
    host: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '',
      kernel: os.release(),
      node: process.version,
      clockTicks: clockTicks(),
    },
    params: {
      durationS: p.durationS,
      warmupS: p.warmupS,
      connections: p.connections,
      wrkThreads: p.threads,
      bodySize: p.bodySize,
      haproxyNbthread: p.haproxyNbthread,
      proxyCpu: p.proxyCpu,
      peerCpu: p.peerCpu,
    },
    config: proxyConfig(0, 0, 1).replace(/127\.0\.0\.1:0/g, '127.0.0.1:PORT'),
    results: rows,
    sluiceToHaproxyCpuPerRequest: ratio,
  };
  fs.mkdirSync(path.dirname(p.out), { recursive: true });
  fs.writeFileSync(p.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nbench: results written to ${p.out}`);
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
