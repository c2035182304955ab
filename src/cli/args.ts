// HAProxy's command-line flags, as far as sluice implements them.

export interface CliArgs {
  files: string[];
  check: boolean;
  version: boolean;
  debug: boolean;
  quiet: boolean;
  pidfile?: string;
  /** `-sf PID...` / `-st PID...`: processes to stop once our listeners are bound (a reload). */
  finish: number[];
  terminate: number[];
  error?: string;
}

export const USAGE = `Usage : sluice -f <cfgfile|cfgdir>* [ -vdVcq ] [ -p <pidfile> ] [ -sf|-st <pid>* ]
        -v displays version ; -vv shows known build options.
        -d enters debug mode (foreground, notices on stderr)
        -V enters verbose mode (disables quiet mode)
        -c check mode : only check config files and exit
        -q quiet mode : don't display messages
        -p writes pids of all children to this file
        -f loads a configuration file or every *.cfg file of a directory (repeatable)
        -sf/-st [pid ]* finishes/terminates old pids once the listeners are bound (reload)
`;

const NOT_YET: Record<string, string> = {
  '-W': 'master-worker mode (-W) is not supported yet',
  '-Ws': 'master-worker mode (-Ws) is not supported yet',
  '-D': 'daemon mode (-D) is not supported yet: run sluice in the foreground under a supervisor',
  '-x': 'fetching listeners from an old process (-x) is not supported yet',
  '-S': 'the master CLI (-S) is not supported yet',
};

/** Parses argv (without node and script). Unknown flags give `error`. */
export function parseArgs(argv: string[]): CliArgs {
  const a: CliArgs = { files: [], check: false, version: false, debug: false, quiet: false, finish: [], terminate: [] };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    switch (x) {
      case '-f':
        if (i + 1 >= argv.length) return { ...a, error: "option '-f' requires a file name" };
        a.files.push(argv[++i]!);
        break;
      case '-c':
        a.check = true;
        break;
      case '-v':
      case '-vv':
        a.version = true;
        break;
      case '-d':
      case '-db':
        a.debug = x === '-d';
        break;
      case '-V':
        a.quiet = false;
        break;
      case '-q':
        a.quiet = true;
        break;
      case '-p':
        if (i + 1 >= argv.length) return { ...a, error: "option '-p' requires a file name" };
        a.pidfile = argv[++i]!;
        break;
      case '-sf':
      case '-st': {
        // Every following argument that is a number is a pid, as HAProxy reads them.
        const into = x === '-sf' ? a.finish : a.terminate;
        while (i + 1 < argv.length && /^\d+$/.test(argv[i + 1]!)) into.push(Number(argv[++i]!));
        break;
      }
      case '--':
        a.files.push(...argv.slice(i + 1));
        i = argv.length;
        break;
      default:
        if (NOT_YET[x]) return { ...a, error: NOT_YET[x] };
        if (x.startsWith('-')) return { ...a, error: `unknown option '${x}'` };
        return { ...a, error: `unexpected argument '${x}' (configuration files go after -f)` };
    }
  }
  return a;
}
