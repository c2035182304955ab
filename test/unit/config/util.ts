// Shared helpers for the configuration tests.

// The keywords of the HTTP rules and the ACL checks register themselves from src/proxy.
import '../../../src/proxy/http-rules.js';
import { formatDiagnostic, parseConfigText, type Config, type LoadOptions, type LoadResult } from '../../../src/config/index.js';

export const FILE = '/etc/sluice/test.cfg';

/** Resolves a few fixed names, so that tests never depend on the machine's DNS. */
export const fakeResolver: NonNullable<LoadOptions['resolve']> = async (name, family) => {
  const table: Record<string, Array<{ address: string; family: 4 | 6 }>> = {
    localhost: [{ address: '127.0.0.1', family: 4 }],
    'app.example': [{ address: '192.0.2.10', family: 4 }, { address: '2001:db8::10', family: 6 }],
    'v6.example': [{ address: '2001:db8::6', family: 6 }],
  };
  const hit = (table[name] ?? []).find((a) => family === 0 || a.family === family);
  if (!hit) throw new Error(`ENOTFOUND ${name}`);
  return hit;
};

/** Parses a configuration text with a fixed environment and resolver. */
export function parse(text: string, opts: LoadOptions = {}): Promise<LoadResult> {
  return parseConfigText(text, FILE, { env: {}, resolve: fakeResolver, ...opts });
}

/** The diagnostics rendered as HAProxy prints them, with pid 1. */
export function lines(r: LoadResult): string[] {
  return r.diagnostics.map((d) => formatDiagnostic(d, 1));
}

/** Parses and asserts that the configuration was accepted; returns it. */
export async function ok(text: string, opts: LoadOptions = {}): Promise<Config> {
  const r = await parse(text, opts);
  if (!r.config) throw new Error(`configuration refused:\n${lines(r).join('\n')}`);
  return r.config;
}

/** A minimal valid preamble: HTTP mode with the three timeouts set. */
export const PREAMBLE = `defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
`;

/** The message part of each diagnostic (without the "[ALERT] (pid) : config : " header). */
export function messages(r: LoadResult): string[] {
  return lines(r).map((l) => l.replace(/^\[[A-Z]+\]\s+\(1\) : config : /, ''));
}

/** The alert line for `line` of FILE, with the "parsing [file:line] : " frame. */
export function alertAt(line: number, msg: string): string {
  return `[ALERT]    (1) : config : parsing [${FILE}:${line}] : ${msg}`;
}

export function warningAt(line: number, msg: string): string {
  return `[WARNING]  (1) : config : parsing [${FILE}:${line}] : ${msg}`;
}
