// `errorfile <code> <file>` (http_htx.c proxy_parse_errorfile, http_load_errorfile): the file
// is read at parse time and must hold a complete HTTP/1 response, which is sent as is.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { registerPostCheck, registerProxyKeywords, registerSection, type KeywordContext } from './registry.js';
import { invalidChar, type ParserState } from './state.js';
import type { SourceLoc } from './model.js';
import { atol } from './units.js';

/** Status codes HAProxy accepts for errorfile (http.c http_err_codes). */
export const ERRORFILE_CODES = [200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 414, 421, 422, 425, 429, 431, 500, 501, 502, 503, 504];

/** Resolves a file name of the configuration according to `default-path`. */
export function configPath(state: ParserState, file: string): string {
  if (isAbsolute(file)) return file;
  const dp = state.defaultPath;
  const confDir = dirname(state.file);
  switch (dp.mode) {
    case 'config':
      return resolve(confDir, file);
    case 'parent':
      return resolve(confDir, '..', file);
    case 'origin':
      return resolve(dp.origin ?? '.', file);
    default:
      return resolve(file);
  }
}

/**
 * Checks that `raw` is a usable error message (http_htx.c http_str_to_htx): a response status
 * line, headers, and a payload consistent with them. Returns HAProxy's error text or undefined.
 */
export function checkErrorMessage(raw: Buffer): string | undefined {
  if (raw.length === 0) return undefined;
  const text = raw.toString('latin1');
  // `end` is the offset of the empty line closing the headers.
  let end = -1;
  let sepLen = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '\n') continue;
    if (text[i + 1] === '\n') {
      end = i + 1;
      sepLen = 1;
      break;
    }
    if (text[i + 1] === '\r' && text[i + 2] === '\n') {
      end = i + 1;
      sepLen = 2;
      break;
    }
  }
  const headerError = (offset: number): string => `unable to parse headers (error offset: ${offset})`;
  const lines = text.slice(0, end < 0 ? text.length : end).split('\n');
  const first = (lines[0] ?? '').replace(/\r$/, '');
  const sl = /^(HTTP\/\d\.\d) (\d+)(?: .*)?$/.exec(first);
  if (!sl) return headerError(0);
  // HAProxy's parser reports an incomplete header block with this offset.
  if (end < 0) return headerError(-2);
  const status = Number(sl[2]);
  if (status < 200 && (status === 100 || status >= 102)) return `invalid http status code for an error message (${status})`;
  let clen: number | undefined;
  let chunked = false;
  let offset = lines[0].length + 1;
  for (const rawLine of lines.slice(1, -1)) {
    const line = rawLine.replace(/\r$/, '');
    const nameEnd = /^[!#$%&'*+.^_`|~0-9A-Za-z-]*/.exec(line)?.[0].length ?? 0;
    if (nameEnd === 0 || line[nameEnd] !== ':') return headerError(offset + nameEnd);
    const name = line.slice(0, nameEnd).toLowerCase();
    const valueStart = nameEnd + 1 + (/^[ \t]*/.exec(line.slice(nameEnd + 1))?.[0].length ?? 0);
    const value = line.slice(valueStart).trim();
    if (name === 'content-length') {
      if (!/^\d+$/.test(value) || (clen !== undefined && clen !== Number(value))) return headerError(offset + valueStart);
      clen = Number(value);
    } else if (name === 'transfer-encoding' && /(^|,)\s*chunked\s*$/i.test(value)) {
      chunked = true;
    }
    offset += rawLine.length + 1;
  }
  const payload = raw.length - (end + sepLen);
  const bodyless = status === 204 || status === 304;
  if (!bodyless && chunked) return 'chunk-encoded payload not supported';
  if (bodyless || clen === 0) {
    if (payload > 0) return 'message payload not expected';
  } else if (clen !== undefined && clen !== payload) {
    return `payload size does not match the announced content-length (${payload} != ${clen})`;
  }
  return undefined;
}

/** Loads an error file the way HAProxy does; returns the message or an error text. */
export function loadErrorFile(ctx: KeywordContext, file: string): Buffer | string {
  let data: Buffer;
  try {
    data = readFileSync(configPath(ctx.state, file));
  } catch {
    return `error opening file '${file}'.`;
  }
  const bufsize = ctx.state.global.tune.bufsize;
  if (data.length > bufsize) {
    ctx.state.diags.warning(`custom error message file '${file}' larger than ${bufsize} bytes. Truncating.`);
    data = data.subarray(0, bufsize);
  }
  const err = checkErrorMessage(data);
  return err === undefined ? data : `'${file}': ${err}`;
}

/** Reads `errorfile <code> <file>` (a proxy line or an http-errors line); the status and message, or an alert. */
function parseErrorfileLine(ctx: KeywordContext): { status: number; data: Buffer } | string {
  const [, code, file] = ctx.args;
  if (code === undefined || file === undefined) return 'errorfile : expects <status_code> and <file> as arguments.';
  const status = atol(code);
  if (!ERRORFILE_CODES.includes(status)) return `errorfile : status code '${status}' not handled.`;
  const r = loadErrorFile(ctx, file);
  if (typeof r === 'string') return `errorfile : ${r}`;
  return { status, data: r };
}

registerProxyKeywords([
  {
    name: 'errorfile',
    cap: 'any',
    inDefaults: true,
    parse(ctx) {
      const r = parseErrorfileLine(ctx);
      if (typeof r === 'string') {
        ctx.report.alert(r);
        return;
      }
      ctx.proxy.errorfiles.set(r.status, r.data);
      ctx.proxy.errorSources.push(r);
    },
  },
  {
    // `errorfiles <name> [<code> ...]`: the messages of an http-errors section, possibly declared
    // later; resolved once everything is read, in order with the proxy's errorfile lines.
    name: 'errorfiles',
    cap: 'any',
    inDefaults: true,
    parse(ctx) {
      const [, name, ...codes] = ctx.args;
      if (name === undefined) {
        ctx.report.alert("'errorfiles' expects <name> as argument.");
        return;
      }
      const statuses: number[] = [];
      for (const c of codes) {
        const st = atol(c);
        if (!ERRORFILE_CODES.includes(st)) {
          ctx.report.warning(`'errorfiles' : status code '${c}' not handled, ignored.`);
          continue;
        }
        if (!statuses.includes(st)) statuses.push(st);
      }
      ctx.proxy.errorSources.push({ section: name, codes: statuses, loc: ctx.loc });
    },
  },
]);

/** An `http-errors <name>` section: its errorfile lines. */
export interface HttpErrorsSection {
  name: string;
  files: Map<number, Buffer>;
  loc: SourceLoc;
}

const sectionsOf = new WeakMap<ParserState, HttpErrorsSection[]>();

/** The http-errors sections read so far, in declaration order. */
export function httpErrorsSections(state: ParserState): readonly HttpErrorsSection[] {
  return sectionsOf.get(state) ?? [];
}

registerSection({
  name: 'http-errors',
  open(ctx): HttpErrorsSection | undefined {
    const { args, report, state, loc } = ctx;
    const name = args[1];
    if (name === undefined) {
      report.alert(`'${args[0]}' : missing name for http-errors section.`);
      return undefined;
    }
    const bad = invalidChar(name);
    if (bad !== undefined) {
      report.alert(`'${args[0]}' : character '${bad}' is not permitted in '${args[0]}' name '${name}'.`);
      return undefined;
    }
    let list = sectionsOf.get(state);
    if (list === undefined) sectionsOf.set(state, (list = []));
    const dup = list.find((x) => x.name === name);
    if (dup !== undefined) {
      report.alert(`http-errors section '${name}' has the same name as another http-errors section declared at ${dup.loc.file}:${dup.loc.line}.`);
      return undefined;
    }
    const section: HttpErrorsSection = { name, files: new Map(), loc };
    list.push(section);
    return section;
  },
  line(ctx, data): void {
    const section = data as HttpErrorsSection;
    if (ctx.args[0] !== 'errorfile') {
      ctx.report.alert(`unknown keyword '${ctx.args[0]}' in 'http-errors' section`);
      return;
    }
    const r = parseErrorfileLine(ctx);
    if (typeof r === 'string') ctx.report.alert(r);
    else section.files.set(r.status, r.data);
  },
});

// Proxies using `errorfiles` get their messages once every section is known, applied in the order
// the errorfile and errorfiles lines were written (a later line replaces an earlier one).
registerPostCheck((state) => {
  const sections = httpErrorsSections(state);
  for (const p of [...state.defaultsSections, ...state.proxies]) {
    if (!p.errorSources.some((x) => 'section' in x)) continue;
    // A defaults section's references are checked in the proxies that use them.
    const report = p.kind !== 'defaults';
    const files = new Map<number, Buffer>();
    for (const src of p.errorSources) {
      if (!('section' in src)) {
        files.set(src.status, src.data);
        continue;
      }
      const sec = sections.find((x) => x.name === src.section);
      if (sec === undefined) {
        if (report) state.diags.alert(`proxy '${p.name}': unknown http-errors section '${src.section}' (at ${src.loc.file}:${src.loc.line}).`);
        continue;
      }
      for (const [status, data] of sec.files) if (src.codes.length === 0 || src.codes.includes(status)) files.set(status, data);
      for (const status of src.codes) {
        if (report && !sec.files.has(status)) {
          state.diags.warning(
            `config: proxy '${p.name}' : status '${status}' not declared in http-errors section '${sec.name}' (at ${src.loc.file}:${src.loc.line}).`,
          );
        }
      }
    }
    p.errorfiles = files;
  }
});
