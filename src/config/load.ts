// Loading configuration files and directories, and the phases HAProxy goes through: parse
// every file, check the whole configuration, resolve server addresses. Each phase that fails
// ends with HAProxy's closing lines and no configuration.

import { newGlobalSsl } from './ssl-global.js';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import {
  DiagnosticList,
  FATAL_ERRORS_LINE,
  SERVER_ADDR_LINE,
  fileErrorsLine,
  type Diagnostic,
} from './diagnostics.js';
import { buildConfig } from './finalize.js';
import { LOG_FORMAT_ENV } from './logs.js';
import type { Config } from './model.js';
import { handleStatement } from './parser.js';
import { readConfigText } from './reader.js';
import { resolveHostNames, systemResolver, type HostResolver } from './resolve.js';
import { presetDefaults, type ParserState } from './state.js';
import { validateConfig } from './validate.js';

export interface LoadOptions {
  /** Environment for "$VAR" expansion; default process.env (it is copied, never modified). */
  env?: NodeJS.ProcessEnv;
  /** Host name resolver used at start-up; default: the system's (dns.lookup). */
  resolve?: HostResolver;
  /** HAProxy version that `.if version_atleast()` compares with; default "2.6.0". */
  version?: string;
  /** Names answered true by `.if feature()`. */
  features?: readonly string[];
}

export interface LoadResult {
  /** The configuration, or undefined when any fatal alert was reported. */
  config?: Config;
  diagnostics: Diagnostic[];
}

/** The HAProxy version sluice's configuration language follows. */
export const COMPAT_VERSION = '2.6.0';

function newState(env: NodeJS.ProcessEnv): ParserState {
  const loc = { file: '', line: 0 };
  const copy: Record<string, string | undefined> = { ...env };
  // HAProxy defines these for every configuration it reads.
  Object.assign(copy, LOG_FORMAT_ENV);
  return {
    diags: new DiagnosticList(),
    env: copy,
    global: {
      maxconn: 0,
      logs: [],
      logTag: 'sluice',
      daemon: false,
      noReusePort: false,
      spreadChecks: 0,
      ssl: newGlobalSsl(),
      nbthread: 0,
      grace: 0,
      tune: { bufsize: 16384, maxrewrite: 1024, maxhdr: 101, h2: { headerTableSize: 4096, maxFrameSize: 16384, initialWindowSize: 65535, maxConcurrentStreams: 100, fe: { initialWindowSize: -1, maxConcurrentStreams: -1 }, be: { initialWindowSize: -1, maxConcurrentStreams: -1 } } },
      zeroWarning: false,
      seen: new Set(),
    },
    proxies: [],
    defaultsSections: [],
    lastDefaults: presetDefaults(loc),
    resolvers: [],
    userlists: [],
    defaultPath: { mode: 'current' },
    file: '',
  };
}

/** Parses configuration texts (already read) through every phase. */
export async function parseSources(sources: Array<{ file: string; text: string }>, opts: LoadOptions = {}): Promise<LoadResult> {
  const state = newState(opts.env ?? process.env);
  const diags = state.diags;
  const cond = { version: opts.version ?? COMPAT_VERSION, features: opts.features ?? [] };
  const done = (): LoadResult => ({ diagnostics: diags.items });

  for (const { file, text } of sources) {
    state.file = file;
    // Every file starts outside of any section (HAProxy rule 7 of 2.1).
    state.section = undefined;
    const r = readConfigText(text, file, state, cond, (args, loc) => handleStatement(state, args, loc));
    if (diags.filesWithErrors.has(file) || r === 'abort') diags.add(fileErrorsLine(file));
    // HAProxy exits right away on errors that abort parsing, without its "Fatal errors" line.
    if (r === 'abort') return done();
  }
  if (diags.hasFatal()) {
    diags.alert(FATAL_ERRORS_LINE);
    return done();
  }

  validateConfig(state);
  if (diags.hasFatal()) {
    diags.alert(FATAL_ERRORS_LINE);
    return done();
  }

  const res = await resolveHostNames(state, opts.resolve ?? systemResolver);
  if (res.parseErrorFiles.size > 0) {
    for (const { file } of sources) if (res.parseErrorFiles.has(file)) diags.add(fileErrorsLine(file));
    diags.alert(FATAL_ERRORS_LINE);
    return done();
  }
  if (res.serverErrors) {
    diags.alert(SERVER_ADDR_LINE);
    return done();
  }
  if (state.global.zeroWarning && diags.warningCount() > 0) {
    diags.alert("Some warnings were found and 'zero-warning' is set. Aborting.");
    return done();
  }
  return { config: buildConfig(state, sources.map((s) => s.file)), diagnostics: diags.items };
}

/**
 * Expands the command-line paths like `haproxy -f`: a directory contributes its regular files
 * whose name ends in ".cfg" and does not start with '.', in byte order.
 */
export function expandConfigPaths(paths: string[]): { files: string[]; error?: string } {
  const files: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      return { files, error: `Cannot open configuration file/directory ${p} : ${errnoText(e)}` };
    }
    if (!st.isDirectory()) {
      files.push(p);
      continue;
    }
    let names: string[];
    try {
      names = readdirSync(p);
    } catch (e) {
      return { files, error: `Cannot open configuration directory ${p} : ${errnoText(e)}` };
    }
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      if (name.startsWith('.') || !name.endsWith('.cfg')) continue;
      const full = `${p}/${name}`;
      try {
        if (statSync(full).isFile()) files.push(full);
      } catch (e) {
        return { files, error: `Cannot open configuration file ${p} : ${errnoText(e)}` };
      }
    }
  }
  return { files };
}

/** Loads configuration files and directories, as `haproxy -f a.cfg -f conf.d/` does. */
export async function loadConfig(paths: string[], opts: LoadOptions = {}): Promise<LoadResult> {
  const expanded = expandConfigPaths(paths);
  if (expanded.error !== undefined) {
    return { diagnostics: [{ severity: 'alert', message: expanded.error, frame: 'none' }] };
  }
  const sources: Array<{ file: string; text: string }> = [];
  for (const file of expanded.files) {
    try {
      sources.push({ file, text: readFileSync(file, 'utf8') });
    } catch (e) {
      return { diagnostics: [{ severity: 'alert', message: `Could not open configuration file ${file} : ${errnoText(e)}`, frame: 'none' }] };
    }
  }
  return parseSources(sources, opts);
}

/** The C library's text for an errno, as HAProxy prints it. */
function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const texts: Record<string, string> = {
    ENOENT: 'No such file or directory',
    EACCES: 'Permission denied',
    ENOTDIR: 'Not a directory',
    EISDIR: 'Is a directory',
    ELOOP: 'Too many levels of symbolic links',
  };
  return (code && texts[code]) ?? (e as Error).message;
}
