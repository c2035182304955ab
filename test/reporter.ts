// The test reporter of `npm test`: a line per test as it ends, then the known bugs (todo tests)
// one line each, then the details of every real failure LAST, so that the end of a long CI log,
// which is what a truncated log keeps, says what failed and why.
import { inspect } from 'node:util';

interface TestData {
  name: string;
  nesting: number;
  file?: string;
  line?: number;
  todo?: string | boolean;
  skip?: string | boolean;
  details: { duration_ms?: number; error?: unknown; type?: string };
}

interface Event {
  type: string;
  data: TestData & { message?: string };
}

const where = (d: TestData): string => (d.file !== undefined ? `${d.file.replace(/^.*\/dist\//, 'dist/')}:${d.line ?? 0}` : '');

function describeError(e: unknown): string {
  // node:test wraps the test's own error in `cause`.
  const inner = e !== null && typeof e === 'object' && 'cause' in e && (e as { cause: unknown }).cause !== undefined ? (e as { cause: unknown }).cause : e;
  return inspect(inner, { depth: 4, breakLength: 120 })
    .split('\n')
    .filter((l) => !l.includes('node:internal/'))
    .join('\n');
}

export default async function* reporter(source: AsyncIterable<Event>): AsyncGenerator<string> {
  const failures: string[] = [];
  const todos: string[] = [];
  let pass = 0;
  let fail = 0;
  let skipped = 0;
  const started = Date.now();
  for await (const ev of source) {
    const d = ev.data;
    switch (ev.type) {
      case 'test:pass':
      case 'test:fail': {
        // Suites report their children; a file's own entry repeats them.
        if (d.details.type === 'suite') break;
        const ms = Math.round(d.details.duration_ms ?? 0);
        const indent = '  '.repeat(d.nesting);
        if (d.todo !== undefined && d.todo !== false) {
          todos.push(`# TODO ${d.name}${typeof d.todo === 'string' ? ` — ${d.todo}` : ''} (${where(d)})`);
          yield `${indent}~ ${d.name} (${ms} ms) # TODO\n`;
        } else if (d.skip !== undefined && d.skip !== false) {
          skipped++;
          yield `${indent}- ${d.name} # SKIP${typeof d.skip === 'string' ? ` ${d.skip}` : ''}\n`;
        } else if (ev.type === 'test:pass') {
          pass++;
          yield `${indent}✔ ${d.name} (${ms} ms)\n`;
        } else {
          fail++;
          failures.push(`✖ ${d.name} (${ms} ms)\n  at ${where(d)}\n${describeError(d.details.error).replace(/^/gm, '  ')}\n`);
          yield `${indent}✖ ${d.name} (${ms} ms)\n`;
        }
        break;
      }
      case 'test:diagnostic':
        if (d.nesting > 0 && d.message !== undefined) yield `${'  '.repeat(d.nesting)}# ${d.message}\n`;
        break;
      case 'test:stderr':
      case 'test:stdout':
        if (d.message !== undefined) yield d.message;
        break;
      default:
        break;
    }
  }
  yield `\n${todos.length} known bugs (todo tests):\n${todos.join('\n')}\n`;
  yield `\ntests ${pass + fail + skipped + todos.length}, pass ${pass}, fail ${fail}, todo ${todos.length}, skipped ${skipped}, ${Math.round((Date.now() - started) / 1000)} s\n`;
  if (failures.length > 0) yield `\n${failures.length} FAILED:\n\n${failures.join('\n')}`;
}
