// The sluice command: HAProxy's command-line flags, configuration loading and checking, the
// running proxy, its signals (SIGTERM stops now, SIGUSR1 stops gracefully), and reloads (-sf/-st).

import { writeFileSync, unlinkSync } from 'node:fs';
import { loadConfig, formatDiagnostic, type Diagnostic } from '../config/index.js';
import { Runtime } from '../proxy/runtime.js';
import { VERSION } from './version.js';
import { parseArgs, USAGE } from './args.js';

function notice(msg: string): void {
  process.stderr.write(`[NOTICE]   (${process.pid}) : ${msg}\n`);
}

function alert(msg: string): void {
  process.stderr.write(`[ALERT]    (${process.pid}) : ${msg}\n`);
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.error) {
    alert(args.error);
    process.stderr.write(USAGE);
    return 1;
  }
  if (args.version) {
    process.stdout.write(`sluice version ${VERSION}\n`);
    return 0;
  }
  if (args.files.length === 0) {
    process.stderr.write(USAGE);
    return 1;
  }
  const { config, diagnostics } = await loadConfig(args.files, { env: process.env });
  printDiagnostics(diagnostics, args.quiet);
  if (!config) return 1;
  if (args.check) {
    // As haproxy -c: these lines are left out with -q.
    if (!args.quiet) {
      if (diagnostics.some((d) => d.severity === 'warning')) process.stdout.write('Warnings were found.\n');
      process.stdout.write('Configuration file is valid\n');
    }
    return 0;
  }
  const rt = new Runtime(config);
  if (rt.frontends.length === 0) {
    alert('[sluice.main()] No enabled listener found (check for \'bind\' directives) ! Exiting.');
    return 1;
  }
  try {
    await rt.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    alert(`Starting proxy: cannot bind socket (${e.code ?? e.message}) [${(e as { address?: string }).address ?? ''}:${(e as { port?: number }).port ?? ''}]`);
    return 1;
  }
  // A reload: the old processes stop once we listen on the same ports (SO_REUSEPORT), softly
  // (-sf: SIGUSR1, they finish what they carry) or at once (-st: SIGTERM).
  for (const [pids, sig] of [[args.finish, 'SIGUSR1'], [args.terminate, 'SIGTERM']] as const) {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch (err) {
        alert(`cannot signal old process ${pid}: ${(err as NodeJS.ErrnoException).code ?? err}`);
      }
    }
  }
  const pidfile = args.pidfile ?? config.global.pidfile;
  if (pidfile) writeFileSync(pidfile, `${process.pid}\n`);
  if (args.debug) {
    notice(`sluice version is ${VERSION}`);
    for (const b of rt.boundPorts()) notice(`frontend '${b.frontend}' listening on port ${b.port}`);
  }
  process.on('SIGTERM', () => rt.hardStop());
  process.on('SIGINT', () => rt.hardStop());
  process.on('SIGUSR1', () => {
    notice('Stopping gracefully (SIGUSR1): listeners closed, waiting for connections to finish.');
    void rt.softStop();
  });
  process.on('SIGHUP', () => {});
  // A stdout or stderr whose reader went away (a pipe closed) is no reason to stop; reporting it
  // there would only fail again, in a loop.
  for (const out of [process.stdout, process.stderr]) out.on('error', () => {});
  // A bug in one exchange must not take every other one down: report it and go on.
  process.on('uncaughtException', (err) => alert(`internal error: ${err.stack ?? err}`));
  await rt.stopped;
  if (pidfile) {
    try {
      unlinkSync(pidfile);
    } catch {
      // already gone
    }
  }
  return 0;
}

function printDiagnostics(ds: Diagnostic[], quiet: boolean): void {
  for (const d of ds) {
    if (quiet && d.severity !== 'alert') continue;
    process.stderr.write(formatDiagnostic(d, process.pid) + '\n');
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Logs and sockets flush, then the process ends even if a stray timer remains.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (err) => {
    alert(`fatal: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
