// Configuration diagnostics and their HAProxy-compatible rendering.
//
// HAProxy frames its configuration messages in a few different ways, and tools (and people)
// grep for them, so the frame is part of the diagnostic instead of being baked into the text:
//   parsing  -> "parsing [file:line] : <message>"   (most keyword errors)
//   parsing: -> "parsing [file:line]: <message>"    (some older messages, lexer errors)
//   context  -> "[file:line] : <message>"           (server lines: "'server be/s1' : ...")
//   none     -> "<message>"                         (check-time messages carry their own location)

import type { SourceLoc } from './model.js';

export type Severity = 'alert' | 'warning' | 'notice';

export type DiagnosticFrame = 'parsing' | 'parsing:' | 'context' | 'none';

export interface Diagnostic {
  severity: Severity;
  /** Configuration file the message is about, when it is about one place. */
  file?: string;
  line?: number;
  /** The text after the location frame; may span several lines as HAProxy prints them. */
  message: string;
  /** How the location is printed; default 'parsing' when file and line are set, else 'none'. */
  frame?: DiagnosticFrame;
  /**
   * False for the few alerts HAProxy prints without failing (e.g. "'maxconn' already specified.
   * Continuing."). Every other alert is fatal: the configuration is then refused.
   */
  fatal?: boolean;
}

const LABELS: Record<Severity, string> = { alert: 'ALERT', warning: 'WARNING', notice: 'NOTICE' };

/**
 * Renders one diagnostic exactly as HAProxy 2.6+ prints it on stderr, e.g.
 * `[ALERT]    (1234) : config : parsing [/etc/x.cfg:12] : unknown keyword 'foo' in 'backend' section`.
 */
export function formatDiagnostic(d: Diagnostic, pid: number = process.pid): string {
  const label = `[${LABELS[d.severity]}]`.padEnd(10, ' ');
  return `${label} (${pid}) : config : ${framePrefix(d)}${d.message}`;
}

function framePrefix(d: Diagnostic): string {
  const frame = d.frame ?? (d.file !== undefined && d.line !== undefined ? 'parsing' : 'none');
  if (frame === 'none' || d.file === undefined) return '';
  const where = d.line !== undefined ? `${d.file}:${d.line}` : d.file;
  if (frame === 'parsing') return `parsing [${where}] : `;
  if (frame === 'parsing:') return `parsing [${where}]: `;
  return `[${where}] : `;
}

/** True when the diagnostic makes the configuration unusable. */
export function isFatal(d: Diagnostic): boolean {
  return d.severity === 'alert' && d.fatal !== false;
}

/**
 * Collects diagnostics for one parse. Keyword parsers report through a `LineReporter` bound to
 * their line; check-time code reports with explicit frames.
 */
export class DiagnosticList {
  readonly items: Diagnostic[] = [];
  /** Files in which a fatal alert was reported, for HAProxy's closing lines. */
  readonly filesWithErrors = new Set<string>();

  add(d: Diagnostic): void {
    this.items.push(d);
    if (isFatal(d) && d.file !== undefined) this.filesWithErrors.add(d.file);
  }

  alert(message: string, loc?: SourceLoc, frame?: DiagnosticFrame): void {
    this.add(located('alert', message, loc, frame));
  }

  /** An alert that HAProxy prints but does not treat as fatal. */
  softAlert(message: string, loc?: SourceLoc, frame?: DiagnosticFrame): void {
    this.add({ ...located('alert', message, loc, frame), fatal: false });
  }

  warning(message: string, loc?: SourceLoc, frame?: DiagnosticFrame): void {
    this.add(located('warning', message, loc, frame));
  }

  notice(message: string, loc?: SourceLoc, frame?: DiagnosticFrame): void {
    this.add(located('notice', message, loc, frame));
  }

  hasFatal(): boolean {
    return this.items.some(isFatal);
  }

  fatalCount(): number {
    return this.items.filter(isFatal).length;
  }

  warningCount(): number {
    return this.items.filter((d) => d.severity === 'warning').length;
  }

  /** A reporter bound to one configuration line. */
  at(loc: SourceLoc): LineReporter {
    return new LineReporter(this, loc);
  }
}

function located(severity: Severity, message: string, loc?: SourceLoc, frame?: DiagnosticFrame): Diagnostic {
  const d: Diagnostic = { severity, message };
  if (loc) {
    d.file = loc.file;
    d.line = loc.line;
  }
  if (frame) d.frame = frame;
  return d;
}

/** Reports problems found on one line; the frame defaults to "parsing [file:line] : ". */
export class LineReporter {
  constructor(
    readonly list: DiagnosticList,
    readonly loc: SourceLoc,
  ) {}

  alert(message: string, frame: DiagnosticFrame = 'parsing'): void {
    this.list.alert(message, this.loc, frame);
  }

  softAlert(message: string, frame: DiagnosticFrame = 'parsing'): void {
    this.list.softAlert(message, this.loc, frame);
  }

  warning(message: string, frame: DiagnosticFrame = 'parsing'): void {
    this.list.warning(message, this.loc, frame);
  }

  notice(message: string, frame: DiagnosticFrame = 'parsing'): void {
    this.list.notice(message, this.loc, frame);
  }
}

/** HAProxy's closing line after a file had fatal errors during parsing. */
export function fileErrorsLine(file: string): Diagnostic {
  return { severity: 'alert', message: `Error(s) found in configuration file : ${file}`, frame: 'none' };
}

/** HAProxy's closing line when parsing or checking failed. */
export const FATAL_ERRORS_LINE = 'Fatal errors found in configuration.';

/** HAProxy's closing line when servers' addresses could not be resolved at start-up. */
export const SERVER_ADDR_LINE = 'Failed to initialize server(s) addr.';
