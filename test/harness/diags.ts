// Comparing `-c` outputs of sluice and haproxy: the [ALERT] and [WARNING] lines of a run, without
// the closing summary lines, with the pid and the configuration file name masked, so that the
// lines of one program can be looked up among those of the other.

/** [ALERT] and [WARNING] lines of a `-c` run (no summary lines), pid and config path masked. */
export function checkDiagnostics(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => /^\[(ALERT|WARNING)\]/.test(l) && !/Error\(s\) found in configuration file|Fatal errors found in configuration/.test(l))
    .map((l) => l.replace(/\(\d+\)/, '(PID)').replaceAll(/[^\s[(']*(haproxy|sluice)\.cfg/g, 'CFG'));
}

/** The text after "[ALERT]    (PID) : config : " (or WARNING) of a masked line. */
export function diagnosticText(line: string): string {
  return line.replace(/^\[(ALERT|WARNING)\] +\(PID\) : config : /, '');
}
