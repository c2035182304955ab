// A proxy's (or the global section's) logger: the list of its `log` targets behind one call.
// Traffic lines go out at level info (err for errors with `option log-separate-errors`);
// state changes at the level HAProxy uses for each message (see messages.ts).

import type { LogTarget } from '../config/model.js';
import { LogLevel } from './types.js';
import { createLogSink, type LogSink, type LogSinkOptions } from './sinks.js';
import type { Clock } from './syslog.js';

export interface LoggerOptions {
  /** `log-tag`: the global one or the proxy's own; default "sluice", the program name. */
  tag?: string;
  /** Default process.pid. */
  pid?: number;
  /** `log-send-hostname`; default none. */
  hostname?: string;
  clock?: Clock;
  /** Receives the first send error of each target; default: an ALERT on stderr. */
  onError?: (err: Error, target: LogTarget) => void;
  /** Opens the sinks; tests replace it. Default createLogSink. */
  createSink?: (target: LogTarget, opts: LogSinkOptions) => LogSink;
}

export class Logger {
  private readonly sinks: LogSink[];

  constructor(targets: readonly LogTarget[], opts: LoggerOptions = {}) {
    const create = opts.createSink ?? createLogSink;
    this.sinks = targets.map((target, i) => {
      const sinkOpts: LogSinkOptions = { tag: opts.tag ?? 'sluice', index: i + 1 };
      if (opts.pid !== undefined) sinkOpts.pid = opts.pid;
      if (opts.hostname !== undefined) sinkOpts.hostname = opts.hostname;
      if (opts.clock !== undefined) sinkOpts.clock = opts.clock;
      const onError = opts.onError;
      if (onError) sinkOpts.onError = (err) => onError(err, target);
      return create(target, sinkOpts);
    });
  }

  /** True when there is at least one target: callers skip formatting otherwise. */
  get enabled(): boolean {
    return this.sinks.length > 0;
  }

  /** Sends a traffic log line (a formatted LogRecord), at info unless told otherwise. */
  traffic(line: string, level: LogLevel = LogLevel.Info): void {
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i]!.send(level, line);
  }

  /** Sends an event (server state change, start/stop...) at `level`. */
  event(level: LogLevel, msg: string): void {
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i]!.send(level, msg);
  }

  /** Closes every sink; the logger sends nothing afterwards. */
  close(): void {
    for (const s of this.sinks) s.close();
    this.sinks.length = 0;
  }
}
