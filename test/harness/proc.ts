// Child processes for tests: sluice, haproxy, nginx and friends. Each one gets its configuration
// in a private temp folder, its output captured line by line, a bounded wait until its ports
// accept connections, and a guaranteed death: every child is tracked and killed when the test
// process exits, whatever way it exits.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireBinary, sluiceBin, which } from './bins.js';
import { canConnect } from './ports.js';

export type LineMatcher = string | RegExp | ((line: string) => boolean);

export interface OutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
  /** Date.now() when the line was complete. */
  at: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** TCP ports that must accept connections before the start resolves. */
  waitPorts?: number[];
  /** Host of waitPorts, default 127.0.0.1. */
  waitHost?: string;
  /** A line (stdout or stderr) to wait for before the start resolves. */
  waitLine?: LineMatcher;
  /** Bound on the whole start, default 10000 ms. */
  startTimeoutMs?: number;
  /** Extra arguments after the program's own. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Pin the process to these CPUs with taskset, e.g. "0" or "0,1". */
  cpus?: string;
  /** More files written next to the configuration, by file name (maps, certificates, ...). */
  files?: Record<string, string | Buffer>;
  /** Use this folder for the configuration instead of a fresh temp folder (kept after stop). */
  dir?: string;
  /** Copy the child's lines to our stderr as they arrive; also enabled by HARNESS_ECHO=1. */
  echo?: boolean;
}

const children = new Set<Proc>();
const tempDirs = new Set<string>();
let hooked = false;

function killGroup(pid: number): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function killAll(): void {
  for (const p of children) killGroup(p.pid);
  children.clear();
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAll();
      // Keep the default behaviour (die by that signal) unless someone else handles it.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

/** A fresh private folder under os.tmpdir(), removed when the test process exits. */
export function makeTempDir(prefix = 'sluice-test-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(d);
  hookExit();
  return d;
}

function matches(m: LineMatcher, line: string): boolean {
  if (typeof m === 'string') return line.includes(m);
  if (m instanceof RegExp) return m.test(line);
  return m(line);
}

/** A tracked child process with captured output. Create through startProcess and friends. */
export class Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  private readonly captured: OutputLine[] = [];
  private readonly partial = { stdout: '', stderr: '' };
  private waiters: Array<() => void> = [];
  private exitInfo: ExitInfo | null = null;
  private readonly exitPromise: Promise<ExitInfo>;
  private ownsDir = false;

  constructor(
    readonly name: string,
    readonly command: string[],
    readonly dir: string,
    readonly configPath: string,
    opts: { env?: NodeJS.ProcessEnv; cwd?: string; cpus?: string; echo?: boolean },
  ) {
    let argv = [...command];
    if (opts.cpus !== undefined) argv = [requireBinary('taskset'), '-c', opts.cpus, ...argv];
    // PDEATHSIG kills the child even if this process is SIGKILLed; exec keeps the same pid.
    const setpriv = which('setpriv');
    if (setpriv && process.platform === 'linux') argv = [setpriv, '--pdeathsig', 'KILL', ...argv];
    hookExit();
    this.child = spawn(argv[0]!, argv.slice(1), {
      cwd: opts.cwd ?? dir,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that a SIGKILL reaches its workers and helpers too.
      detached: true,
    });
    this.pid = this.child.pid ?? -1;
    children.add(this);
    const echo = opts.echo ?? process.env.HARNESS_ECHO === '1';
    // A child a test forgot to stop must not keep the test process alive: nothing of it holds the
    // event loop, and the exit hook kills it. Waits on it hold the loop with their own timers.
    this.child.unref();
    for (const stream of ['stdout', 'stderr'] as const) {
      const st = this.child[stream]! as NodeJS.ReadableStream & { unref?: () => void };
      st.setEncoding('utf8');
      st.on('data', (s: string) => this.onData(stream, s, echo));
      st.unref?.();
    }
    this.exitPromise = new Promise((resolve) => {
      const finish = (info: ExitInfo): void => {
        if (this.exitInfo) return;
        for (const st of ['stdout', 'stderr'] as const) {
          if (this.partial[st] !== '') this.addLine(st, this.partial[st], echo);
          this.partial[st] = '';
        }
        this.exitInfo = info;
        children.delete(this);
        this.wake();
        resolve(info);
      };
      // Output is complete once the pipes close; but a descendant that outlives the process may
      // hold them open, so after 'exit' wait for 'close' only briefly.
      let closed = false;
      this.child.once('close', (code, signal) => {
        closed = true;
        finish({ code, signal });
      });
      this.child.once('exit', (code, signal) => {
        if (!closed) setTimeout(() => finish({ code, signal }), 200);
      });
      this.child.once('error', (err) => {
        this.addLine('stderr', `spawn error: ${err.message}`, echo);
        finish({ code: null, signal: null });
      });
    });
  }

  /** Marks the temp folder as ours to delete after stop. */
  ownDir(): this {
    this.ownsDir = true;
    return this;
  }

  private onData(stream: 'stdout' | 'stderr', s: string, echo: boolean): void {
    const parts = (this.partial[stream] + s).split('\n');
    this.partial[stream] = parts.pop()!;
    for (const p of parts) this.addLine(stream, p.endsWith('\r') ? p.slice(0, -1) : p, echo);
  }

  private addLine(stream: 'stdout' | 'stderr', text: string, echo: boolean): void {
    this.captured.push({ stream, text, at: Date.now() });
    if (echo) process.stderr.write(`[${this.name} ${this.pid}] ${text}\n`);
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Exit status once the process is gone, else null. */
  get exited(): ExitInfo | null {
    return this.exitInfo;
  }

  /** All captured lines, stdout and stderr interleaved in arrival order, joined by newlines. */
  output(): string {
    return this.captured.map((l) => l.text).join('\n');
  }

  /** The captured lines with their stream and time. */
  lines(): OutputLine[] {
    return this.captured.slice();
  }

  /** How many lines were captured so far: pass it as `from` to wait only for newer lines. */
  mark(): number {
    return this.captured.length;
  }

  /**
   * Resolves with the first line at index >= `from` that matches; rejects with the captured
   * output on timeout or when the process exits first.
   */
  waitForLine(match: LineMatcher, timeoutMs = 5000, from = 0): Promise<string> {
    return new Promise((resolve, reject) => {
      let i = from;
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`${this.name}: no line matching ${String(match)} within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
      const check = (): void => {
        for (; i < this.captured.length; i++) {
          const l = this.captured[i]!.text;
          if (matches(match, l)) {
            clearTimeout(timer);
            resolve(l);
            return;
          }
        }
        if (this.exitInfo) {
          clearTimeout(timer);
          reject(new Error(`${this.name}: exited before a line matching ${String(match)}\n${this.describe()}`));
          return;
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  /** Sends a signal; a no-op once the process is gone. */
  signal(sig: NodeJS.Signals): void {
    if (!this.exitInfo) this.child.kill(sig);
  }

  /** Resolves when the process is gone; with a bound, rejects after timeoutMs instead. */
  waitExit(timeoutMs?: number): Promise<ExitInfo> {
    if (timeoutMs === undefined) {
      if (this.exitInfo) return this.exitPromise;
      const keepAlive = setInterval(() => {}, 1 << 30);
      return this.exitPromise.finally(() => clearInterval(keepAlive));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: still running after ${timeoutMs} ms\n${this.describe()}`)),
        timeoutMs,
      );
      void this.exitPromise.then((info) => {
        clearTimeout(timer);
        resolve(info);
      });
    });
  }

  /** SIGKILL to the process and its whole process group (workers, helpers). */
  kill(): void {
    killGroup(this.pid);
  }

  /**
   * SIGTERM to the process, then SIGKILL to its process group if still alive after `graceMs`
   * (default 5000); resolves with the exit. Leftovers in its group are killed in any case.
   */
  async stop(graceMs = 5000): Promise<ExitInfo> {
    if (!this.exitInfo) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.kill(), graceMs);
      await this.waitExit();
      clearTimeout(timer);
    }
    this.kill();
    if (this.ownsDir) {
      fs.rmSync(this.dir, { recursive: true, force: true });
      tempDirs.delete(this.dir);
    }
    return this.exitInfo!;
  }

  /** The command line, exit state and captured output, for error messages. */
  describe(): string {
    const state = this.exitInfo
      ? `exited code=${this.exitInfo.code} signal=${this.exitInfo.signal}`
      : `running pid=${this.pid}`;
    return `command: ${this.command.join(' ')}\nstate: ${state}\n--- output ---\n${this.output()}\n--------------`;
  }
}

/** The handle returned by every start function. */
export type ProcHandle = Proc;

function writeFiles(dir: string, files: Record<string, string | Buffer> | undefined): void {
  for (const [name, content] of Object.entries(files ?? {})) {
    fs.writeFileSync(path.join(dir, name), content);
  }
}

async function waitReady(p: Proc, opts: StartOptions): Promise<void> {
  const deadline = Date.now() + (opts.startTimeoutMs ?? 10000);
  const host = opts.waitHost ?? '127.0.0.1';
  const fail = (why: string): never => {
    p.kill();
    throw new Error(`${p.name} failed to start: ${why}\n${p.describe()}`);
  };
  if (p.pid < 0) {
    await p.waitExit();
    fail('spawn failed');
  }
  if (opts.waitLine !== undefined) {
    try {
      await p.waitForLine(opts.waitLine, Math.max(1, deadline - Date.now()));
    } catch {
      fail(`no line matching ${String(opts.waitLine)}`);
    }
  }
  for (const port of opts.waitPorts ?? []) {
    for (;;) {
      if (p.exited) fail(`exited before port ${port} accepted connections`);
      if (await canConnect(port, host, 500)) break;
      if (p.exited) fail(`exited before port ${port} accepted connections`);
      if (Date.now() > deadline) fail(`port ${host}:${port} not accepting connections within the bound`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  if (p.exited) fail('exited during start');
}

/**
 * Writes `configText` to <tempdir>/<name>.cfg, spawns `command` with `args(configPath)` and waits
 * as `opts` asks. Rejects with the captured output if the process fails or exits during start.
 */
export async function startWithConfig(
  name: string,
  command: string,
  args: (configPath: string) => string[],
  configText: string,
  opts: StartOptions = {},
): Promise<ProcHandle> {
  const dir = opts.dir ?? makeTempDir(`sluice-${name}-`);
  const configPath = path.join(dir, `${name}.cfg`);
  fs.writeFileSync(configPath, configText);
  writeFiles(dir, opts.files);
  const p = new Proc(name, [command, ...args(configPath), ...(opts.args ?? [])], dir, configPath, opts);
  if (opts.dir === undefined) p.ownDir();
  await waitReady(p, opts);
  return p;
}

/** Starts sluice (`bin/sluice -f FILE`) in the foreground with this configuration. */
export function startSluice(configText: string, opts: StartOptions = {}): Promise<ProcHandle> {
  return startWithConfig('sluice', sluiceBin(), (f) => ['-f', f], configText, opts);
}

/** Starts haproxy (`haproxy -db -f FILE`) in the foreground with this configuration. */
export function startHaproxy(configText: string, opts: StartOptions = {}): Promise<ProcHandle> {
  return startWithConfig('haproxy', requireBinary('haproxy'), (f) => ['-db', '-f', f], configText, opts);
}

/** Spawns any program with its arguments, tracked and captured like the others. */
export async function startProcess(
  name: string,
  command: string[],
  opts: StartOptions = {},
): Promise<ProcHandle> {
  const dir = opts.dir ?? makeTempDir(`sluice-${name}-`);
  writeFiles(dir, opts.files);
  const p = new Proc(name, command, dir, '', opts);
  if (opts.dir === undefined) p.ownDir();
  await waitReady(p, opts);
  return p;
}

export interface CheckResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  configPath: string;
}

/**
 * Runs `<program> -c -f FILE` on `configText` ('sluice', 'haproxy', or a path to a binary) and
 * resolves with its exit code and output once it exits (killed after timeoutMs, default 10000).
 */
export async function runCheck(
  program: 'sluice' | 'haproxy' | string,
  configText: string,
  opts: { args?: string[]; files?: Record<string, string | Buffer>; timeoutMs?: number } = {},
): Promise<CheckResult> {
  const bin = program === 'sluice' ? sluiceBin() : program === 'haproxy' ? requireBinary('haproxy') : program;
  const dir = makeTempDir('sluice-check-');
  const configPath = path.join(dir, `${path.basename(program)}.cfg`);
  fs.writeFileSync(configPath, configText);
  writeFiles(dir, opts.files);
  const p = new Proc(`${path.basename(program)} -c`, [bin, '-c', '-f', configPath, ...(opts.args ?? [])], dir, configPath, {});
  p.ownDir();
  const timer = setTimeout(() => p.kill(), opts.timeoutMs ?? 10000);
  const info = await p.waitExit();
  clearTimeout(timer);
  const lines = p.lines();
  const text = (s: 'stdout' | 'stderr'): string =>
    lines
      .filter((l) => l.stream === s)
      .map((l) => `${l.text}\n`)
      .join('');
  await p.stop();
  return { code: info.code, signal: info.signal, stdout: text('stdout'), stderr: text('stderr'), configPath };
}
