// Pattern files (-f) and map files, read once per compilation with HAProxy's line rules. A file
// keeps the shape it was first read with: HAProxy refuses to use one file both as a one-column
// pattern list and as a two-column map.

import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export interface PatFileEntry {
  /** The pattern (the key of a map). */
  key: string;
  /** The value of a map entry ("" for pattern lists). */
  value: string;
  /** 1-based line number, for messages. */
  line: number;
}

/** Files read during one configuration load, shared by every ACL and map that names them. */
export class FileCache {
  private readonly files = new Map<string, { twoColumns: boolean; entries: PatFileEntry[] }>();

  constructor(readonly baseDir: string = process.cwd()) {}

  /**
   * Entries of a pattern list (`twoColumns` false) or of a map. Throws an Error carrying
   * HAProxy's message when the file cannot be read or was read with the other shape.
   */
  load(name: string, twoColumns: boolean): PatFileEntry[] {
    const path = isAbsolute(name) ? name : resolve(this.baseDir, name);
    const known = this.files.get(path);
    if (known) {
      if (known.twoColumns !== twoColumns) {
        throw new Error(
          known.twoColumns
            ? `The file "${name}" is already used as two column file and cannot be used by as one column file.`
            : `The file "${name}" is already used as one column file and cannot be used by as two column file.`,
        );
      }
      return known.entries;
    }
    let text: string;
    try {
      // Byte strings, like the headers they are matched against.
      text = readFileSync(path).toString('latin1');
    } catch {
      throw new Error(`failed to open pattern file <${name}>`);
    }
    const entries = twoColumns ? parseMapText(text) : parseListText(text);
    this.files.set(path, { twoColumns, entries });
    return entries;
  }
}

function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** One pattern per line: '#' in the first column comments, leading blanks are dropped. */
export function parseListText(text: string): PatFileEntry[] {
  const out: PatFileEntry[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const l = lines[n]!;
    if (l[0] === '#') continue;
    let a = 0;
    while (isBlank(l[a])) a++;
    let b = a;
    while (b < l.length && l[b] !== '\r') b++;
    if (b === a) continue;
    out.push({ key: l.slice(a, b), value: '', line: n + 1 });
  }
  return out;
}

/** "key value" per line: the key ends at the first blank, the value is the trimmed rest. */
export function parseMapText(text: string): PatFileEntry[] {
  const out: PatFileEntry[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const l = lines[n]!;
    if (l[0] === '#') continue;
    let a = 0;
    while (isBlank(l[a])) a++;
    if (a >= l.length || l[a] === '\r') continue;
    let k = a;
    while (k < l.length && !isBlank(l[k]) && l[k] !== '\r') k++;
    let v = k;
    while (isBlank(l[v])) v++;
    let e = v;
    while (e < l.length && l[e] !== '\r') e++;
    while (e > v && isBlank(l[e - 1])) e--;
    out.push({ key: l.slice(a, k), value: l.slice(v, e), line: n + 1 });
  }
  return out;
}
