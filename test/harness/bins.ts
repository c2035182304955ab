// Where the programs the tests drive live: sluice itself (found from this file's location, so the
// harness works from dist/ or from any other build folder inside or next to the repository) and
// the real peers installed by scripts/test-peers.sh.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const found = new Map<string, string | null>();

/** Absolute path of executable `name` on PATH or in the sbin folders, or null. */
export function which(name: string): string | null {
  if (found.has(name)) return found.get(name)!;
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  dirs.push('/usr/local/sbin', '/usr/sbin', '/sbin');
  let hit: string | null = null;
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) {
        hit = p;
        break;
      }
    } catch {
      // not here
    }
  }
  found.set(name, hit);
  return hit;
}

/**
 * For `test(name, { skip: skipUnless('curl', 'nginx') }, fn)`: false when every binary is
 * present, else a reason naming the missing ones.
 */
export function skipUnless(...names: string[]): string | false {
  const missing = names.filter((n) => which(n) === null);
  if (missing.length === 0) return false;
  return `missing ${missing.join(', ')} (scripts/test-peers.sh installs it as root)`;
}

/** Absolute path of `name`; throws a clear error when it is not installed. */
export function requireBinary(name: string): string {
  const p = which(name);
  if (p === null) throw new Error(`${name} is not installed (scripts/test-peers.sh installs it as root)`);
  return p;
}

function isRepoRoot(dir: string): boolean {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
    return pkg.name === 'sluice' && fs.existsSync(path.join(dir, 'bin', 'sluice'));
  } catch {
    return false;
  }
}

function searchUp(start: string): string | null {
  let dir = path.resolve(start);
  for (;;) {
    if (isRepoRoot(dir)) return dir;
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

let root: string | null | undefined;

/**
 * The sluice repository root: $SLUICE_ROOT, else the first folder above this file holding sluice's
 * package.json and bin/sluice, else the same search from the working directory (for builds placed
 * outside the tree). Throws when none is found.
 */
export function repoRoot(): string {
  if (root === undefined) {
    const env = process.env.SLUICE_ROOT;
    root = env && isRepoRoot(env) ? path.resolve(env) : null;
    root ??= searchUp(path.dirname(fileURLToPath(import.meta.url)));
    root ??= searchUp(process.cwd());
  }
  if (root === null) throw new Error('cannot find the sluice repository root (set SLUICE_ROOT)');
  return root;
}

/** The sluice launcher: $SLUICE_BIN, else <repo>/bin/sluice. */
export function sluiceBin(): string {
  return process.env.SLUICE_BIN || path.join(repoRoot(), 'bin', 'sluice');
}
