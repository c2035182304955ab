// `userlist` sections (cfgparse.c cfg_parse_users, auth.c userlist_postinit, check_user):
// users with `insecure-password` or crypt(3) `password`, groups declared on either side, and
// the credential check behind the http_auth fetches.

import { createHash } from 'node:crypto';
import { crypt, unsupportedScheme } from './crypt.js';
import { toBytes } from './text.js';

interface User {
  /** Byte string, as received credentials are. */
  readonly pass: string;
  readonly insecure: boolean;
  groups: string[];
}

/** Verified credentials kept so that a crypt hash (milliseconds of CPU) is not recomputed per request. */
const CACHE_MAX = 1024;

/** A resolved userlist: users, the groups each belongs to, and the credential check. */
export class Userlist {
  private readonly cache = new Map<string, boolean>();

  constructor(
    readonly name: string,
    private readonly users: ReadonlyMap<string, User>,
    /** Declared group names. */
    readonly groups: readonly string[],
  ) {}

  /** HAProxy's check_user: the user exists and the password matches (bytes, latin1 strings). */
  checkUser(user: string, pass: string): boolean {
    const u = this.users.get(user);
    if (u === undefined) return false;
    if (u.insecure) return pass === u.pass;
    // Keyed by a digest so that clear-text passwords are not kept in memory.
    const key = createHash('sha256').update(user, 'latin1').update('\0').update(pass, 'latin1').digest('base64');
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const ok = crypt(pass, u.pass) === u.pass;
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, ok);
    return ok;
  }

  /** The groups of `user` in declaration order of the links, empty for an unknown user. */
  groupsOf(user: string): readonly string[] {
    return this.users.get(user)?.groups ?? [];
  }

  /** Names of the users, for tests and the documentation of a configuration. */
  userNames(): string[] {
    return [...this.users.keys()];
  }
}

/** Where a userlist line's diagnostics go (HAProxy's text, without "parsing [file:line]: "). */
export interface UserlistReport {
  alert(message: string): void;
  warning(message: string): void;
}

/** HAProxy's invalid_char for names: the first character outside [A-Za-z0-9_.:-], if any. */
function invalidChar(name: string): string | undefined {
  for (const c of name) if (!/[A-Za-z0-9_.:-]/.test(c)) return c;
  return undefined;
}

/**
 * Checks the `userlist <name>` line; returns HAProxy's alert or undefined. `spaced` tells the
 * frame: "parsing [file:line] : " when true, "parsing [file:line]: " otherwise. Duplicated names
 * are the caller's to detect ("ignoring duplicated userlist '<name>'.", a warning, unspaced).
 */
export function checkUserlistHeader(words: readonly string[]): { message: string; spaced: boolean } | undefined {
  const name = words[1] ?? '';
  if (name === '') return { message: `'${words[0]}' expects <name> as arguments.`, spaced: false };
  if (words.length > 2 && words[2] !== '') return { message: `'${words[0]}' cannot handle unexpected argument '${words[2]}'.`, spaced: true };
  const bad = invalidChar(name);
  if (bad !== undefined) return { message: `character '${bad}' is not permitted in '${words[0]}' name '${name}'.`, spaced: false };
  return undefined;
}

interface DraftUser {
  name: string;
  pass: string;
  insecure: boolean;
  groupNames: string;
}

/** Collects the lines of one userlist section, then resolves it (userlist_postinit). */
export class UserlistBuilder {
  private readonly users: DraftUser[] = [];
  private readonly groups: Array<{ name: string; userNames: string }> = [];

  constructor(readonly name: string) {}

  /**
   * One line of the section; words[0] is the keyword (`group` or `user`). Alerts and warnings
   * are framed "parsing [file:line]: " (no space before the colon), as HAProxy prints them.
   */
  parseLine(words: readonly string[], report: UserlistReport): void {
    const kw = words[0] ?? '';
    const arg = (i: number): string => words[i] ?? '';
    if (kw === 'group') {
      const name = arg(1);
      if (name === '') return report.alert(`'${kw}' expects <name> as arguments.`);
      const bad = invalidChar(name);
      if (bad !== undefined) return report.alert(`character '${bad}' is not permitted in '${kw}' name '${name}'.`);
      if (this.groups.some((g) => g.name === name)) {
        return report.warning(`ignoring duplicated group '${name}' in userlist '${this.name}'.`);
      }
      let userNames = '';
      for (let i = 2; arg(i) !== ''; i += 2) {
        if (arg(i) !== 'users') return report.alert(`'${kw}' only supports 'users' option.`);
        userNames = arg(i + 1);
      }
      this.groups.push({ name, userNames });
    } else if (kw === 'user') {
      const name = arg(1);
      if (name === '') return report.alert(`'${kw}' expects <name> as arguments.`);
      if (this.users.some((u) => u.name === name)) {
        return report.warning(`ignoring duplicated user '${name}' in userlist '${this.name}'.`);
      }
      const u: DraftUser = { name, pass: '', insecure: false, groupNames: '' };
      // HAProxy keeps the user even when a later option of the line is refused.
      this.users.push(u);
      for (let i = 2; arg(i) !== ''; i += 2) {
        const opt = arg(i);
        if (opt === 'password') {
          const scheme = unsupportedScheme(arg(i + 1));
          if (scheme !== undefined) {
            return report.alert(`the encrypted password used for user '${name}' uses ${scheme}, which is not supported yet by sluice.`);
          }
          u.pass = arg(i + 1);
          u.insecure = false;
        } else if (opt === 'insecure-password') {
          u.pass = arg(i + 1);
          u.insecure = true;
        } else if (opt === 'groups') {
          u.groupNames = arg(i + 1);
        } else {
          return report.alert(`'${kw}' only supports 'password', 'insecure-password' and 'groups' options.`);
        }
      }
    } else {
      report.alert(`unknown keyword '${kw}' in 'users' section`);
    }
  }

  /**
   * Links users and groups once the section is read. Unknown names are alerts ("userlist 'L':
   * no such group 'g' specified in user 'u'"), which HAProxy prints without file and line.
   */
  build(report: UserlistReport): Userlist {
    const users = new Map<string, User>();
    // HAProxy lists users newest first; a name appears once (duplicates were refused).
    for (const d of this.users) users.set(toBytes(d.name), { pass: d.insecure ? toBytes(d.pass) : d.pass, insecure: d.insecure, groups: [] });
    const groupNames = this.groups.map((g) => g.name);
    for (const d of this.users) {
      if (d.groupNames === '') continue;
      const u = users.get(toBytes(d.name))!;
      for (const g of d.groupNames.split(',')) {
        if (g === '') continue;
        if (!groupNames.includes(g)) {
          report.alert(`userlist '${this.name}': no such group '${g}' specified in user '${d.name}'`);
          continue;
        }
        if (!u.groups.includes(g)) u.groups.push(g);
      }
    }
    for (const g of this.groups) {
      for (const name of g.userNames.split(',')) {
        if (name === '') continue;
        const u = users.get(toBytes(name));
        if (u === undefined) {
          report.alert(`userlist '${this.name}': no such user '${name}' specified in group '${g.name}'`);
          continue;
        }
        if (!u.groups.includes(g.name)) u.groups.push(g.name);
      }
    }
    return new Userlist(this.name, users, groupNames);
  }
}
