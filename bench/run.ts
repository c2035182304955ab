// Side-by-side benchmark: the same proxy configuration run by haproxy and by sluice in front of
// nginx, loaded by wrk (HTTP/1.1) or h2load (cleartext HTTP/2 to the proxy, HTTP/1.1 to nginx);
// reports throughput, latency and above all CPU time per request.
// Layout on a 2-core host: the proxy alone on core 0; nginx and the load generator share core 1.
// Usage: node dist/bench/run.js [--protocol h1|h2|both] [--only haproxy|sluice] [--duration 10]
//        [--connections 50] [--streams 10] [--threads 1] [--warmup 2] [--body-size 100]
//        [--haproxy-nbthread 1] [--out FILE]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  freePort,
  h2Request,
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
import { clockTicks, cpuBusyTicks, parseH2load, parseWrk, treeCpuTicks, type WrkReport } from './measure.js';

type ProxyName = 'haproxy' | 'sluice';
/** h1: HTTP/1.1 loaded by wrk; h2: cleartext HTTP/2 (prior knowledge) loaded by h2load. */
type Protocol = 'h1' | 'h2';

interface Params {
  protocols: Protocol[];
  only: ProxyName | null;
  durationS: number;
  connections: number;
  /** h2load: concurrent streams per connection. */
  streams: number;
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
  protocol: Protocol;
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
  /** wrk: connect/read/write/timeout errors; h2load: requests that got no answer ("errored"). */
  socketErrors?: number;
  non2xx3xx?: number;
  /** h2: every request h2load counted as failed (includes the two figures above); absent for h1. */
  failedRequests?: number;
  /** h2 with failed requests: h2load's output, to report. */
  loadOutput?: string;
  /** CPU seconds spent on the proxy's core by anything else during the run (should be ~0). */
  proxyCoreOtherSeconds?: number;
  /** Busy share of the core nginx and the load generator share (near 100: the load side may be the limit). */
  peerCorePercent?: number;
}

function usage(msg: string): never {
  console.error(`bench: ${msg}`);
  console.error(
    'usage: run.js [--protocol h1|h2|both] [--only haproxy|sluice] [--duration S] [--connections N]\n' +
      '              [--streams N] [--threads N] [--warmup S] [--body-size BYTES] [--haproxy-nbthread N] [--out FILE]\n' +
      'env: BENCH_PROTOCOL, BENCH_ONLY, BENCH_DURATION, BENCH_CONNECTIONS, BENCH_STREAMS, BENCH_THREADS, BENCH_WARMUP,\n' +
      '     BENCH_PROXY_CPU, BENCH_PEER_CPU',
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

function protocols(v: string, what: string): Protocol[] {
  if (v === 'h1' || v === 'h2') return [v];
  if (v === 'both') return ['h1', 'h2'];
  return usage(`${what} takes h1, h2 or both, not '${v}'`);
}

function parseArgs(argv: string[]): Params {
  const env = process.env;
  const oneCore = os.cpus().length < 2;
  const p: Params = {
    protocols: protocols(env.BENCH_PROTOCOL || 'h1', 'BENCH_PROTOCOL'),
    only: null,
    durationS: seconds(env.BENCH_DURATION ?? '10'),
    connections: positive(env.BENCH_CONNECTIONS ?? '50', 'connections'),
    streams: positive(env.BENCH_STREAMS ?? '10', 'streams'),
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
      case '--protocol':
        p.protocols = protocols(val(), '--protocol');
        break;
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
      case '--streams':
      case '-m':
        p.streams = positive(val(), 'streams');
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
export function proxyConfig(port: number, originPort: number, nbthread: number, protocol: Protocol = 'h1'): string {
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
    bind 127.0.0.1:${port}${protocol === 'h2' ? ' proto h2' : ''}
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

/** What one measured run gives, whatever the load generator. */
interface Measured {
  requests: number;
  durationS: number;
  requestsPerSec: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  socketErrors: number;
  non2xx3xx: number;
  failedRequests?: number;
  loadOutput?: string;
  /** The proxy's CPU ticks, and every core's busy ticks, at the start and end of the measured phase. */
  cpu: [number, number];
  cores: [number[], number[]];
}

/** wrk: a separate warm-up run, then the proxy's CPU read around the whole measured run. */
async function measureWrk(p: Params, url: string, pid: number): Promise<Measured> {
  if (p.warmupS > 0) await runWrk(p, url, p.warmupS);
  const cores0 = cpuBusyTicks();
  const before = treeCpuTicks(pid);
  const w = await runWrk(p, url, p.durationS);
  const after = treeCpuTicks(pid);
  return { ...w, cpu: [before, after], cores: [cores0, cpuBusyTicks()] };
}

/**
 * h2load warms up within its own run and counts only the main phase, so the proxy's CPU is read
 * when h2load announces (line-buffered) that the main phase starts in every thread and when it
 * ends; connection setup and the warm-up stay outside both counts, as with wrk.
 */
async function measureH2load(p: Params, url: string, pid: number): Promise<Measured> {
  const warm = Number.isInteger(p.warmupS) ? `${p.warmupS}s` : `${Math.round(p.warmupS * 1000)}ms`;
  const durationS = Math.max(1, Math.round(p.durationS));
  const args = ['-c', `${p.connections}`, '-m', `${p.streams}`, '-D', `${durationS}`, `--warm-up-time=${warm}`, '-t', `${p.threads}`, url];
  const proc = await startProcess('h2load', [requireBinary('h2load'), ...args], { cpus: p.peerCpu });
  try {
    let started = 0;
    await proc.waitForLine((l) => l.startsWith('Main benchmark duration is started') && ++started === p.threads, (p.warmupS + 30) * 1000);
    const cores0 = cpuBusyTicks();
    const before = treeCpuTicks(pid);
    await proc.waitForLine((l) => l.startsWith('Main benchmark duration is over'), (durationS + 30) * 1000);
    const after = treeCpuTicks(pid);
    const cores1 = cpuBusyTicks();
    const exit = await proc.waitExit(30000);
    const out = proc.output();
    if (exit.code !== 0) throw new Error(`h2load failed (code ${exit.code}):\n${out}`);
    const h = parseH2load(out);
    return {
      requests: h.requests,
      durationS: h.durationS,
      requestsPerSec: h.requestsPerSec,
      // h2load gives min/mean/max/sd, no percentiles.
      latencyP50Ms: null,
      latencyP99Ms: null,
      socketErrors: h.errored,
      non2xx3xx: h.non2xx3xx,
      failedRequests: h.failed,
      loadOutput: h.failed > 0 ? out.split('\n').filter((l) => !l.startsWith('progress:')).join('\n') : undefined,
      cpu: [before, after],
      cores: [cores0, cores1],
    };
  } finally {
    await proc.stop();
  }
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

/** One request through the proxy before loading it, in the protocol under test: must be a 200. */
async function probe(port: number, protocol: Protocol): Promise<string | null> {
  try {
    if (protocol === 'h1') {
      const r = await request(port, { path: '/', timeoutMs: 5000 });
      return r.status === 200 ? null : `status ${r.status}`;
    }
    const r = await h2Request(port, { path: '/', timeoutMs: 5000 });
    if (r.status === 200 && r.ended) return null;
    return `status ${r.status}${r.ended ? '' : `, stream not ended (rst ${r.rstCode}${r.error ? `, ${r.error}` : ''})`}`;
  } catch (e) {
    return (e as Error).message;
  }
}

async function benchOne(name: ProxyName, protocol: Protocol, p: Params, nginx: NginxHandle): Promise<Row> {
  const port = await freePort();
  const nbthread = name === 'haproxy' ? p.haproxyNbthread : 1;
  const cfg = proxyConfig(port, nginx.port, nbthread, protocol);
  const start = name === 'haproxy' ? startHaproxy : startSluice;
  let proc: ProcHandle;
  try {
    proc = await start(cfg, { waitPorts: [port], cpus: p.proxyCpu, startTimeoutMs: 15000 });
  } catch (e) {
    return { proxy: name, protocol, ok: false, error: `failed to start: ${firstLines((e as Error).message, 25)}` };
  }
  try {
    const version =
      name === 'haproxy' ? versionOf(requireBinary('haproxy'), ['-v']) : versionOf(path.join(repoRoot(), 'bin', 'sluice'), ['-v']);
    const bad = await probe(port, protocol);
    if (bad !== null) return { proxy: name, protocol, ok: false, version, error: `probe request failed: ${bad}` };
    const url = `http://127.0.0.1:${port}/`;
    const m = await (protocol === 'h1' ? measureWrk : measureH2load)(p, url, proc.pid);
    const [cores0, cores1] = m.cores;
    const coreBusy = (cpu: string): number | undefined => {
      const i = Number(cpu);
      return Number.isInteger(i) && cores1[i] !== undefined ? (cores1[i]! - cores0[i]!) / clockTicks() : undefined;
    };
    if (proc.exited) throw new Error(`${name} exited during the run\n${proc.describe()}`);
    const cpuSeconds = (m.cpu[1] - m.cpu[0]) / clockTicks();
    return {
      proxy: name,
      protocol,
      ok: true,
      version,
      requests: m.requests,
      durationS: m.durationS,
      requestsPerSec: m.requestsPerSec,
      cpuSeconds,
      cpuUsPerRequest: m.requests > 0 ? (cpuSeconds * 1e6) / m.requests : undefined,
      cpuPercent: (cpuSeconds / m.durationS) * 100,
      latencyP50Ms: m.latencyP50Ms,
      latencyP99Ms: m.latencyP99Ms,
      socketErrors: m.socketErrors,
      non2xx3xx: m.non2xx3xx,
      failedRequests: m.failedRequests,
      loadOutput: m.loadOutput,
      proxyCoreOtherSeconds: Math.max(0, (coreBusy(p.proxyCpu) ?? cpuSeconds) - cpuSeconds),
      peerCorePercent: ((coreBusy(p.peerCpu) ?? NaN) / m.durationS) * 100,
    };
  } catch (e) {
    return { proxy: name, protocol, ok: false, error: (e as Error).message };
  } finally {
    await proc.stop();
  }
}

function fmt(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

/** Failed requests, socket errors and bad statuses: a row with any is not a valid measurement. */
function errorCount(r: Row): number {
  return r.failedRequests ?? (r.socketErrors ?? 0) + (r.non2xx3xx ?? 0);
}

function printTable(rows: Row[], ratios: Partial<Record<Protocol, number | null>>): void {
  const head = ['proxy', 'proto', 'req/s', 'requests', 'CPU s', 'CPU %', 'CPU us/req', 'p50 ms', 'p99 ms', 'errors', 'peer core %'];
  const lines = rows
    .filter((r) => r.ok)
    .map((r) => [
      r.proxy,
      r.protocol,
      fmt(r.requestsPerSec, 0),
      String(r.requests),
      fmt(r.cpuSeconds, 2),
      fmt(r.cpuPercent, 0),
      fmt(r.cpuUsPerRequest, 2),
      fmt(r.latencyP50Ms, 3),
      fmt(r.latencyP99Ms, 3),
      String(errorCount(r)),
      fmt(r.peerCorePercent, 0),
    ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]): string => cells.map((c, i) => (i <= 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(row(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(row(l));
  for (const r of rows.filter((x) => x.ok)) {
    const who = `${r.proxy} (${r.protocol})`;
    const other = r.proxyCoreOtherSeconds ?? 0;
    if (other > 0.05 * (r.cpuSeconds ?? 0)) {
      console.log(`warning: ${who}: other processes used ${other.toFixed(2)} CPU s on the proxy's core; rerun on a quiet host`);
    }
    if ((r.cpuPercent ?? 100) < 90 && (r.peerCorePercent ?? 0) > 95) {
      console.log(`note: ${who}: the nginx+load core was saturated (${fmt(r.peerCorePercent, 0)}%): req/s is load-bound, CPU us/req still holds`);
    }
    if (errorCount(r) > 0) {
      const detail =
        r.failedRequests !== undefined
          ? `${r.failedRequests} failed requests (${r.socketErrors} errored, ${r.non2xx3xx} 4xx/5xx)`
          : `${r.socketErrors} socket errors, ${r.non2xx3xx} non-2xx/3xx responses`;
      console.log(`error: ${who}: ${detail}: not a valid measurement`);
      if (r.loadOutput) console.log(r.loadOutput.replace(/^/gm, '    '));
    }
  }
  for (const r of rows.filter((x) => !x.ok)) console.log(`${r.proxy} (${r.protocol}): ${r.error}`);
  for (const [proto, ratio] of Object.entries(ratios)) {
    if (ratio !== null) console.log(`\nsluice/haproxy CPU per request (${proto}): ${ratio.toFixed(2)}x`);
  }
}

function loadCommand(p: Params, protocol: Protocol): string {
  return protocol === 'h1'
    ? `wrk -t${p.threads} -c${p.connections} -d${p.durationS}s (warm-up run ${p.warmupS}s)`
    : `h2load -t ${p.threads} -c ${p.connections} -m ${p.streams} -D ${p.durationS} --warm-up-time=${p.warmupS}s`;
}

async function main(): Promise<void> {
  const p = parseArgs(process.argv.slice(2));
  for (const b of ['nginx', 'taskset']) requireBinary(b);
  if (p.protocols.includes('h1')) requireBinary('wrk');
  if (p.protocols.includes('h2')) requireBinary('h2load');
  const proxies: ProxyName[] = p.only ? [p.only] : ['haproxy', 'sluice'];
  if (proxies.includes('haproxy')) requireBinary('haproxy');
  if (p.proxyCpu === p.peerCpu) console.error('bench: warning: proxy and load generator share a core; figures are not comparable');

  console.log(
    `bench: ${p.protocols.map((x) => `${x}: ${loadCommand(p, x)}`).join('; ')}\n` +
      `bench: ${p.bodySize}-byte body; proxy on CPU ${p.proxyCpu}, nginx+load on CPU ${p.peerCpu}, haproxy nbthread ${p.haproxyNbthread}`,
  );
  const nginx = await startNginx({ body: 'x'.repeat(p.bodySize - 1) + '\n', cpus: p.peerCpu });
  const rows: Row[] = [];
  try {
    for (const protocol of p.protocols) {
      for (const name of proxies) {
        console.log(`bench: running ${name} (${protocol}) ...`);
        const r = await benchOne(name, protocol, p, nginx);
        if (!r.ok) console.log(`bench: ${name} (${protocol}) failed: ${firstLines(r.error ?? '', 3)}`);
        rows.push(r);
      }
    }
  } finally {
    await nginx.stop();
  }

  const ratios: Partial<Record<Protocol, number | null>> = {};
  for (const protocol of p.protocols) {
    const cpu = (n: ProxyName): number | undefined => rows.find((r) => r.proxy === n && r.protocol === protocol && r.ok)?.cpuUsPerRequest;
    const h = cpu('haproxy');
    const s = cpu('sluice');
    ratios[protocol] = h !== undefined && s !== undefined && h > 0 ? s / h : null;
  }
  console.log('');
  printTable(rows, ratios);

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
      protocols: p.protocols,
      durationS: p.durationS,
      warmupS: p.warmupS,
      connections: p.connections,
      h2Streams: p.streams,
      wrkThreads: p.threads,
      bodySize: p.bodySize,
      haproxyNbthread: p.haproxyNbthread,
      proxyCpu: p.proxyCpu,
      peerCpu: p.peerCpu,
    },
    // The h2 configuration differs only by `proto h2` on the bind line.
    config: proxyConfig(0, 0, 1, p.protocols[0]).replace(/127\.0\.0\.1:0/g, '127.0.0.1:PORT'),
    results: rows,
    // For the first protocol run (h1 when both ran), as before; every protocol's in the next field.
    sluiceToHaproxyCpuPerRequest: ratios[p.protocols[0]!] ?? null,
    sluiceToHaproxyCpuPerRequestByProtocol: ratios,
  };
  fs.mkdirSync(path.dirname(p.out), { recursive: true });
  fs.writeFileSync(p.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nbench: results written to ${p.out}`);
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
