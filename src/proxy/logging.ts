// Wires the log module to the running proxy: one Logger per proxy (its `log` targets, `log
// global` already expanded by the configuration), the compiled `log-format`, and the process-wide
// event log for state changes.

import type { GlobalConfig, LogTarget, ProxyConfig } from '../config/model.js';
import { registerLogFormatChecker } from '../config/index.js';
import { compileLogFormat, formatConnectLog, formatLogLine, Logger, LogFormatError, registerSampleCompiler, type LogFormat, type LogRecord } from '../log/index.js';
import { AclError, createLogSampleCompiler, type SampleCtx } from '../acl/index.js';
import type { TrafficLogger } from './frontend.js';

// `%[...]` items of log formats are sample expressions of the ACL engine, evaluated against the
// stream at the end of the exchange.
registerSampleCompiler(createLogSampleCompiler());

// A `log-format` that the log module cannot compile is a configuration error, found by -c too.
registerLogFormatChecker((fmt) => {
  try {
    compileLogFormat(fmt);
    return undefined;
  } catch (err) {
    if (err instanceof LogFormatError || err instanceof AclError) return err.message;
    throw err;
  }
});

/** Where process-wide events go (server state changes, "no server available"). */
export interface EventLog {
  /** `stderrMsg`: the text for stderr when it differs from the log's (HAProxy quotes names there). */
  event(level: number, msg: string, stderrMsg?: string): void;
  close(): void;
}

class ProxyLogger implements TrafficLogger {
  private count = 0;
  constructor(
    private readonly logger: Logger,
    /** Undefined: HAProxy's default, a "Connect from" line at accept instead of one at the end. */
    private readonly fmt: LogFormat | undefined,
  ) {}

  get logsAtAccept(): boolean {
    return this.fmt === undefined;
  }

  traffic(rec: LogRecord, ctx: SampleCtx | null = null, level?: number): void {
    rec.logCount = this.count++;
    if (this.fmt === undefined) return;
    this.logger.traffic(formatLogLine(this.fmt, rec, ctx ?? undefined), level);
  }

  accepted(rec: LogRecord): void {
    if (this.fmt !== undefined) return;
    this.count++;
    this.logger.traffic(formatConnectLog(rec));
  }

  event(level: number, msg: string): void {
    this.logger.event(level, msg);
  }
}

/** The traffic logger of a frontend, or null when it has no `log` target. */
export function createTrafficLogger(p: ProxyConfig, g: GlobalConfig): TrafficLogger | null {
  if (p.logs.length === 0) return null;
  const logger = new Logger(p.logs, { tag: g.logTag });
  const fmt = p.logFormat === undefined ? undefined : compileLogFormat(p.logFormat, { logasap: p.options.logasap });
  return new ProxyLogger(logger, fmt);
}

/**
 * An event log on `targets` (the global ones, or a backend's: HAProxy logs a server's state
 * changes and check results on its proxy's targets); stderr gets them too, as HAProxy prints them.
 */
export function createEventLog(targets: readonly LogTarget[], tag: string): EventLog {
  const logger = new Logger(targets, { tag });
  return {
    event(level: number, msg: string, stderrMsg = msg): void {
      if (logger.enabled) logger.event(level, msg);
      // As HAProxy in the foreground, state changes and check results also reach stderr:
      // emergencies as ALERTs ("no server available"), the rest as WARNINGs (ha_warning), even
      // those logged at notice level (a server UP, a health check result).
      if (level <= 5) {
        const label = level === 0 ? '[ALERT]' : '[WARNING]';
        process.stderr.write(`${label.padEnd(10)} (${process.pid}) : ${stderrMsg}\n`);
      }
    },
    close(): void {
      logger.close();
    },
  };
}
