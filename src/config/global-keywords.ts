// Keywords of the global section (configuration.txt section 3; cfgparse-global.c).

import { readFileSync } from 'node:fs';
import { notSupportedYet } from './known-keywords.js';
import { registerGlobalKeywords, type GlobalKeyword, type KeywordContext } from './registry.js';
import { lenientInt, timeArg, tooManyArgs } from './helpers.js';
import { atol } from './units.js';
import type { H2TuneDraft } from './state.js';

/** HAProxy's thread limit (MAX_THREADS of a 64-bit build without thread groups). */
const MAX_THREADS = 64;

/** Keywords HAProxy accepts once; a repeat is a non-fatal alert. */
function once(ctx: KeywordContext, key: string, label = `'${key}'`): boolean {
  const seen = ctx.state.global.seen;
  if (seen.has(key)) {
    ctx.report.softAlert(`${label} already specified. Continuing.`);
    return false;
  }
  seen.add(key);
  return true;
}

function needArg(ctx: KeywordContext, what: string): string | undefined {
  const v = ctx.args[1];
  if (v === undefined) ctx.report.alert(`'${ctx.args[0]}' expects ${what}.`);
  return v;
}

/** Finds a user or group in /etc/passwd or /etc/group the way getpwnam()/getgrnam() would. */
function lookupId(file: string, name: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 3) return Number(f[2]);
  }
  return undefined;
}

/**
 * Privilege and file-system changes sluice cannot apply yet: the value is checked as HAProxy
 * checks it, then refused, because silently running with other privileges than configured is
 * worse than not starting.
 */
function privilegeKeyword(name: 'user' | 'group' | 'uid' | 'gid' | 'chroot'): GlobalKeyword {
  return {
    name,
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      const isUser = name === 'user' || name === 'uid';
      const isGroup = name === 'group' || name === 'gid';
      if (isUser && !once(ctx, 'uid', 'user/uid')) return;
      if (isGroup && !once(ctx, 'gid', name === 'group' ? 'gid/group was' : 'group/gid')) return;
      if (name === 'chroot' && !once(ctx, 'chroot')) return;
      const v = ctx.args[1];
      if (v === undefined) {
        ctx.report.alert(name === 'chroot' ? "'chroot' expects a directory as an argument." : `'${name}' expects an integer argument.`);
        return;
      }
      if ((name === 'uid' || name === 'gid') && !/^\d+$/.test(v)) {
        ctx.report.warning(
          ` ${name}: string '${v}' is not a number.\n   | You might want to use the '${name === 'uid' ? 'user' : 'group'}' parameter to use a system ${name === 'uid' ? 'user' : 'group'} name.`,
        );
        return;
      }
      if (name === 'user' && lookupId('/etc/passwd', v) === undefined) {
        ctx.report.alert(`cannot find user id for '${v}' (0:Success)`);
        return;
      }
      if (name === 'group' && lookupId('/etc/group', v) === undefined) {
        ctx.report.alert(`cannot find group id for '${v}' (0:Success)`);
        return;
      }
      const why = name === 'chroot' ? 'it cannot change its root directory' : 'it cannot drop privileges yet';
      ctx.report.alert(notSupportedYet(`'${name}'`).replace(/\.$/, ` (${why}).`));
    },
  };
}

function setenvKeyword(name: 'setenv' | 'presetenv'): GlobalKeyword {
  return {
    name,
    parse(ctx) {
      if (tooManyArgs(ctx, 2)) return;
      const [, key, value] = ctx.args;
      if (key === undefined || value === undefined) {
        ctx.report.alert(`'${name}' expects a name and a value.`);
        return;
      }
      if (name === 'presetenv' && ctx.state.env[key] !== undefined) return;
      ctx.state.env[key] = value;
    },
  };
}

registerGlobalKeywords([
  {
    name: 'maxconn',
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      if (ctx.state.global.maxconn !== 0) {
        ctx.report.softAlert("'maxconn' already specified. Continuing.");
        return;
      }
      const v = needArg(ctx, 'an integer argument');
      if (v !== undefined) ctx.state.global.maxconn = lenientInt(ctx, v);
    },
  },
  {
    name: 'pidfile',
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      if (ctx.state.global.pidfile !== undefined) {
        ctx.report.softAlert("'pidfile' already specified. Continuing.");
        return;
      }
      const v = needArg(ctx, 'a file name as an argument');
      if (v !== undefined) ctx.state.global.pidfile = v;
    },
  },
  {
    name: 'daemon',
    parse(ctx) {
      if (tooManyArgs(ctx, 0)) return;
      ctx.state.global.daemon = true;
    },
  },
  {
    name: 'master-worker',
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      if (ctx.args[1] !== undefined && ctx.args[1] !== 'no-exit-on-failure') {
        ctx.report.alert("'master-worker' only supports 'no-exit-on-failure' option.");
        return;
      }
      ctx.report.alert(notSupportedYet("'master-worker' in the configuration").replace(/\.$/, " (use '-W' on the command line)."));
    },
  },
  {
    name: 'nbthread',
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      const v = ctx.args[1] ?? '';
      if (!/^[+-]?\d+$/.test(v)) {
        ctx.report.alert(`'nbthread' passed a missing or unparsable integer value in '${v}'`);
        return;
      }
      const n = Number(v);
      if (n < 1 || n > MAX_THREADS) {
        ctx.report.alert(`'nbthread' value must be between 1 and ${MAX_THREADS} (was ${n})`);
        return;
      }
      ctx.state.global.nbthread = n;
    },
  },
  {
    name: 'nbproc',
    parse(ctx) {
      ctx.report.alert(
        'nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available.',
      );
    },
  },
  {
    name: 'hard-stop-after',
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      const v = ctx.args[1];
      if (v === undefined) {
        ctx.report.alert("'hard-stop-after' expects <time> as argument.");
        return;
      }
      const t = timeArg(ctx, v, 'hard-stop-after', 'angle');
      if (t !== undefined) ctx.state.global.hardStopAfter = t;
    },
  },
  {
    name: 'grace',
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      const v = ctx.args[1];
      if (v === undefined) {
        ctx.report.alert("'grace' expects <time> as argument.");
        return;
      }
      const t = timeArg(ctx, v, 'grace', 'angle');
      if (t !== undefined) ctx.state.global.grace = t;
    },
  },
  {
    name: 'tune.bufsize',
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      const v = needArg(ctx, 'an integer argument');
      if (v === undefined) return;
      // Rounded up to a multiple of two pointers, as HAProxy does.
      const n = Math.ceil(lenientInt(ctx, v) / 16) * 16;
      if (n <= 0 || n > 0x7fffffff) {
        ctx.report.alert("'tune.bufsize' expects a positive integer argument.");
        return;
      }
      ctx.state.global.tune.bufsize = n;
    },
  },
  {
    name: 'tune.maxrewrite',
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      const v = needArg(ctx, 'an integer argument');
      if (v === undefined) return;
      const n = lenientInt(ctx, v);
      if (n < 0) {
        ctx.report.alert("'tune.maxrewrite' expects a positive integer argument.");
        return;
      }
      ctx.state.global.tune.maxrewrite = n;
    },
  },
  {
    name: 'tune.http.maxhdr',
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      const v = needArg(ctx, 'an integer argument');
      if (v === undefined) return;
      const n = atol(v) | 0;
      if (n < 1 || n > 32767) {
        ctx.report.alert("'tune.http.maxhdr' expects a numeric value between 1 and 32767");
        return;
      }
      ctx.state.global.tune.maxhdr = n;
    },
  },
  ...h2TuneKeywords(),
  {
    name: 'tune.chksize',
    parse(ctx) {
      ctx.report.alert("option 'tune.chksize' is not supported any more (tune.bufsize is used instead).", 'parsing:');
    },
  },
  {
    name: 'ulimit-n',
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      if (!once(ctx, 'ulimit-n')) return;
      const v = needArg(ctx, 'an integer argument');
      if (v === undefined) return;
      lenientInt(ctx, v);
      ctx.report.warning("'ulimit-n' is ignored: sluice does not change the file descriptor limit of its process.");
    },
  },
  {
    name: 'noreuseport',
    parse(ctx) {
      if (tooManyArgs(ctx, 0)) return;
      ctx.state.global.noReusePort = true;
    },
  },
  {
    name: 'zero-warning',
    parse(ctx) {
      if (tooManyArgs(ctx, 0)) return;
      ctx.state.global.zeroWarning = true;
    },
  },
  {
    name: 'stats',
    parse(ctx) {
      const sub = ctx.args[1];
      if (sub === 'socket' || sub === 'timeout' || sub === 'maxconn' || sub === 'bind-process') {
        ctx.report.alert(notSupportedYet(`'stats ${sub}'`));
        return;
      }
      ctx.report.alert("'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' in 'global' section.");
    },
  },
  privilegeKeyword('user'),
  privilegeKeyword('group'),
  privilegeKeyword('uid'),
  privilegeKeyword('gid'),
  privilegeKeyword('chroot'),
  setenvKeyword('setenv'),
  setenvKeyword('presetenv'),
  {
    name: 'unsetenv',
    parse(ctx) {
      if (ctx.args.length < 2) {
        ctx.report.alert("'unsetenv' expects at least one variable name.");
        return;
      }
      for (const name of ctx.args.slice(1)) delete ctx.state.env[name];
    },
  },
  {
    name: 'resetenv',
    parse(ctx) {
      const keep = new Set(ctx.args.slice(1));
      for (const name of Object.keys(ctx.state.env)) if (!keep.has(name)) delete ctx.state.env[name];
    },
  },
  {
    name: 'default-path',
    parse(ctx) {
      const mode = ctx.args[1];
      if (mode === 'current' || mode === 'config' || mode === 'parent') {
        if (tooManyArgs(ctx, 1)) return;
        ctx.state.defaultPath = { mode };
      } else if (mode === 'origin') {
        if (tooManyArgs(ctx, 2)) return;
        const origin = ctx.args[2];
        if (origin === undefined) {
          ctx.report.alert("'default-path origin' expects a path.");
          return;
        }
        ctx.state.defaultPath = { mode, origin };
      } else {
        ctx.report.alert(
          `'default-path' expects one of 'current', 'config', 'parent' or 'origin', got '${mode ?? ''}'.`,
        );
      }
    },
  },
]);

/**
 * tune.h2.* (HAProxy's mux_h2.c parsers and wordings): the HTTP/2 SETTINGS sluice advertises,
 * common to both sides or per side (`fe`, `be`).
 */
function h2TuneKeywords(): GlobalKeyword[] {
  const positive = (name: string, set: (h2: H2TuneDraft, n: number) => void): GlobalKeyword => ({
    name,
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      const n = atol(ctx.args[1] ?? '') | 0;
      if (n < 0) {
        ctx.report.alert(`'${name}' expects a positive numeric value.`);
        return;
      }
      set(ctx.state.global.tune.h2, n);
    },
  });
  const ranged = (name: string, min: number, max: number, set: (h2: H2TuneDraft, n: number) => void): GlobalKeyword => ({
    name,
    parse(ctx) {
      if (tooManyArgs(ctx, 1)) return;
      const n = atol(ctx.args[1] ?? '') | 0;
      if (n < min || n > max) {
        ctx.report.alert(`'${name}' expects a numeric value between ${min} and ${max}.`);
        return;
      }
      set(ctx.state.global.tune.h2, n);
    },
  });
  return [
    ranged('tune.h2.header-table-size', 4096, 65536, (h, n) => (h.headerTableSize = n)),
    ranged('tune.h2.max-frame-size', 16384, 16777215, (h, n) => (h.maxFrameSize = n)),
    positive('tune.h2.initial-window-size', (h, n) => (h.initialWindowSize = n)),
    positive('tune.h2.fe.initial-window-size', (h, n) => (h.fe.initialWindowSize = n)),
    positive('tune.h2.be.initial-window-size', (h, n) => (h.be.initialWindowSize = n)),
    positive('tune.h2.max-concurrent-streams', (h, n) => (h.maxConcurrentStreams = n)),
    positive('tune.h2.fe.max-concurrent-streams', (h, n) => (h.fe.maxConcurrentStreams = n)),
    positive('tune.h2.be.max-concurrent-streams', (h, n) => (h.be.maxConcurrentStreams = n)),
  ];
}
