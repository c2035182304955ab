// Where framed log lines go: stdout/stderr, UDP syslog servers, unix datagram sockets.
// Like HAProxy, a sink never blocks and never buffers without bound: when the destination
// cannot take a line right now, the line is dropped and counted (`droppedLogs()`, HAProxy's
// "DroppedLogs"). Other send errors are reported once per sink and then ignored.

import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import type { LogTarget } from '../config/model.js';
import { frameLine, syslogHeader, wallClock, type Clock, type SyslogIdentity } from './syslog.js';

/** Bytes a stdout/stderr pipe may hold in Node's buffer before lines are dropped. */
const MAX_STREAM_BACKLOG = 64 * 1024;
/** Datagrams queued in a socket (kernel buffer full) before lines are dropped. */
const MAX_DGRAM_BACKLOG = 1024;

let dropped = 0;

/** Log lines dropped because a destination could not take them (HAProxy's DroppedLogs). */
export function droppedLogs(): number {
  return dropped;
}

export interface LogSink {
  readonly target: LogTarget;
  /**
   * Sends `msg` at syslog `level` if the target's maxLevel lets it through, raised to the
   * target's minLevel, framed per target.format and cut to target.len. Never throws.
   */
  send(level: number, msg: string): void;
  /** Releases the sink's share of its socket. Further sends are ignored. */
  close(): void;
}

export interface LogSinkOptions {
  /** `log-tag`; default "sluice" (HAProxy uses its program name the same way). */
  tag?: string;
  /** Process id printed in headers; default process.pid. */
  pid?: number;
  /** `log-send-hostname`; default none. */
  hostname?: string;
  clock?: Clock;
  /** Position of the target in its list, from 1, for error messages. */
  index?: number;
  /** Receives the first error that is not "would block"; default: an ALERT on stderr. */
  onError?: (err: Error) => void;
  /** Streams used for stdout/stderr targets (tests); default the process streams. */
  stdout?: Writable;
  stderr?: Writable;
}

/** Sends finished datagrams or lines; shared by the sinks of one destination kind. */
interface Transport {
  /** Sends datagrams (the newline then comes on top of the target's `len`). */
  readonly datagram: boolean;
  write(buf: Buffer, sink: Sink): void;
  release(): void;
}

class Sink implements LogSink {
  private readonly id: SyslogIdentity;
  private readonly clock: Clock;
  private readonly onError: (err: Error) => void;
  private reported = false;
  protected closed = false;

  constructor(
    readonly target: LogTarget,
    opts: LogSinkOptions,
    private readonly transport: Transport,
  ) {
    this.id = {
      tag: opts.tag ?? 'sluice',
      pid: String(opts.pid ?? process.pid),
      hostname: opts.hostname ?? '',
    };
    this.clock = opts.clock ?? wallClock;
    const index = opts.index ?? 1;
    this.onError =
      opts.onError ??
      ((err: Error): void => {
        const code = (err as NodeJS.ErrnoException).code;
        process.stderr.write(
          `[ALERT]    (${process.pid}) : sendmsg()/writev() failed in logger #${index}: ` +
            `${err.message}${code ? ` (${code})` : ''}\n`,
        );
      });
  }

  send(level: number, msg: string): void {
    const t = this.target;
    if (this.closed || level > t.maxLevel) return;
    if (level < t.minLevel) level = t.minLevel;
    const header = syslogHeader(t.format, t.facility, level, this.id, this.clock());
    this.transport.write(frameLine(header, msg, t.len, this.transport.datagram), this);
  }

  /** A transport reports a failed send here; only the first one is shown. */
  fail(err: Error): void {
    if (this.reported) return;
    this.reported = true;
    this.onError(err);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.transport.release();
  }
}

function isWouldBlock(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'ENOBUFS';
}

/**
 * stdout/stderr: one write per line. Files and terminals are written synchronously by Node;
 * pipes are asynchronous, and a pipe whose reader falls behind makes lines drop instead of
 * piling up in memory.
 */
class StreamTransport implements Transport {
  readonly datagram = false;
  private broken = false;
  private lastSink: Sink | undefined;

  constructor(private readonly stream: Writable) {
    stream.on('error', this.onStreamError);
  }

  write(buf: Buffer, sink: Sink): void {
    const s = this.stream;
    if (this.broken || s.destroyed || !s.writable || s.writableLength > MAX_STREAM_BACKLOG) {
      dropped++;
      return;
    }
    this.lastSink = sink;
    s.write(buf, this.onWritten);
  }

  release(): void {
    this.stream.off('error', this.onStreamError);
  }

  // Without an 'error' listener a closed stdout (EPIPE) would kill the process.
  private readonly onStreamError = (): void => {
    this.broken = true;
  };

  // One callback for every write: no closure per line.
  private readonly onWritten = (err?: Error | null): void => {
    if (err) {
      if (isWouldBlock(err)) dropped++;
      else this.lastSink?.fail(err);
    }
  };
}

/** One UDP socket per address family for all sinks, as HAProxy does; unref'd. */
class UdpTransport implements Transport {
  readonly datagram = true;
  private static shared: { 4?: UdpTransport; 6?: UdpTransport } = {};
  private refs = 0;
  private pending = 0;
  private readonly socket: dgram.Socket;
  private lastSink: Sink | undefined;

  static acquire(family: 4 | 6): UdpTransport {
    let t = UdpTransport.shared[family];
    if (!t) {
      t = new UdpTransport(family);
      UdpTransport.shared[family] = t;
    }
    t.refs++;
    return t;
  }

  private constructor(private readonly family: 4 | 6) {
    this.socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    this.socket.on('error', (err) => this.lastSink?.fail(err));
    this.socket.unref();
  }

  write(buf: Buffer, sink: Sink): void {
    if (this.pending >= MAX_DGRAM_BACKLOG) {
      dropped++;
      return;
    }
    const t = sink.target;
    this.pending++;
    this.lastSink = sink;
    this.socket.send(buf, t.port ?? 514, t.host, this.onSent);
  }

  // One callback for every datagram: no closure per line. An error is reported on the sink
  // that sent last, which is the one that failed unless several targets fail at once.
  private readonly onSent = (err: Error | null): void => {
    this.pending--;
    if (err) {
      if (isWouldBlock(err)) dropped++;
      else this.lastSink?.fail(err);
    }
  };

  release(): void {
    if (--this.refs > 0) return;
    if (UdpTransport.shared[this.family] === this) delete UdpTransport.shared[this.family];
    this.socket.close();
  }
}

/** The part of node-unix-socket's DgramSocket that sluice uses. */
interface UnixDgramSocket {
  sendTo(buf: Buffer, offset: number, length: number, path: string, cb?: (err?: Error) => void): void;
  on(event: 'error', cb: (err: Error) => void): unknown;
  close(): void;
}
type UnixDgramModule = { DgramSocket: new () => UnixDgramSocket };

const UNIX_DGRAM_PACKAGE = 'node-unix-socket';
let unixDgram: UnixDgramModule | Error | undefined;

/** Loads the optional package that sends on unix datagram sockets (Node cannot natively). */
function loadUnixDgram(): UnixDgramModule | Error {
  if (unixDgram === undefined) {
    try {
      const require = createRequire(import.meta.url);
      unixDgram = require(UNIX_DGRAM_PACKAGE) as UnixDgramModule;
    } catch (e) {
      unixDgram = e instanceof Error ? e : new Error(String(e));
    }
  }
  return unixDgram;
}

class UnixTransport implements Transport {
  readonly datagram = true;
  private static shared: UnixTransport | undefined;
  private refs = 0;
  private pending = 0;
  private lastSink: Sink | undefined;

  static acquire(mod: UnixDgramModule): UnixTransport {
    if (!UnixTransport.shared) UnixTransport.shared = new UnixTransport(new mod.DgramSocket());
    UnixTransport.shared.refs++;
    return UnixTransport.shared;
  }

  private constructor(private readonly socket: UnixDgramSocket) {
    socket.on('error', (err) => this.lastSink?.fail(err));
  }

  write(buf: Buffer, sink: Sink): void {
    if (this.pending >= MAX_DGRAM_BACKLOG) {
      dropped++;
      return;
    }
    this.pending++;
    this.lastSink = sink;
    try {
      this.socket.sendTo(buf, 0, buf.length, sink.target.path ?? '', this.onSent);
    } catch (err) {
      this.pending--;
      sink.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private readonly onSent = (err?: Error): void => {
    this.pending--;
    if (err) {
      if (isWouldBlock(err)) dropped++;
      else this.lastSink?.fail(err);
    }
  };

  release(): void {
    if (--this.refs > 0) return;
    if (UnixTransport.shared === this) UnixTransport.shared = undefined;
    this.socket.close();
  }
}

/**
 * Says why sluice cannot log to `target`, or undefined when it can. The config layer turns a
 * message into an ALERT on the `log` line.
 */
export function checkLogTarget(target: LogTarget): string | undefined {
  if (target.len !== 0 && (target.len < 80 || target.len > 65535)) {
    return `invalid log length '${target.len}', must be between 80 and 65535`;
  }
  if (!Number.isInteger(target.facility) || target.facility < 0 || target.facility > 23) {
    return `unknown log facility '${target.facility}'`;
  }
  if (target.maxLevel < 0 || target.maxLevel > 7 || target.minLevel < 0 || target.minLevel > 7) {
    return `unknown log level '${target.maxLevel < 0 || target.maxLevel > 7 ? target.maxLevel : target.minLevel}'`;
  }
  switch (target.kind) {
    case 'stdout':
    case 'stderr':
      return undefined;
    case 'udp':
      if (!target.host) return 'log target has no address';
      if (target.port !== undefined && (target.port < 1 || target.port > 65535)) {
        return `invalid port '${target.port}' for log target '${target.host}'`;
      }
      return undefined;
    case 'unix': {
      if (!target.path) return 'unix log target has no path';
      const mod = loadUnixDgram();
      if (mod instanceof Error) {
        return (
          `cannot log to unix datagram socket '${target.path}': sending on unix datagram sockets ` +
          `needs the optional npm package '${UNIX_DGRAM_PACKAGE}', which is not installed ` +
          `(log to a UDP address such as 127.0.0.1:514, or to stdout/stderr, instead)`
        );
      }
      return undefined;
    }
  }
}

/**
 * Opens a sink for `target`. Throws when checkLogTarget refuses the target (the config layer
 * is expected to have called it first).
 */
export function createLogSink(target: LogTarget, opts: LogSinkOptions = {}): LogSink {
  const problem = checkLogTarget(target);
  if (problem) throw new Error(problem);
  switch (target.kind) {
    case 'stdout':
      return new Sink(target, opts, new StreamTransport(opts.stdout ?? process.stdout));
    case 'stderr':
      return new Sink(target, opts, new StreamTransport(opts.stderr ?? process.stderr));
    case 'udp':
      return new Sink(target, opts, UdpTransport.acquire(target.family ?? (target.host!.includes(':') ? 6 : 4)));
    case 'unix':
      return new Sink(target, opts, UnixTransport.acquire(loadUnixDgram() as UnixDgramModule));
  }
}
