import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envExpandLegacy, lexLine } from '../../../src/config/lexer.js';

const env = { HOME: '/home/u', EMPTY: '', LIST: 'a b  c', PORT: '8080' };
const pseudo = { file: '/x.cfg', line: 7, section: 'www' };

const words: Array<[string, string[]]> = [
  ['bind :80', ['bind', ':80']],
  ['   server  s1\t127.0.0.1:80   check  ', ['server', 's1', '127.0.0.1:80', 'check']],
  ['# only a comment', []],
  ['maxconn 10 # trailing comment', ['maxconn', '10']],
  ['global#this is the global section', ['global']],
  ['a\\ b c', ['a b', 'c']],
  ['a\\#b', ['a#b']],
  ['a\\\\b', ['a\\b']],
  ["a\\'b", ["a'b"]],
  ['a\\"b', ['a"b']],
  ['\\x41\\x42', ['AB']],
  ['a\\tb\\nc\\rd', ['a\tb\nc\rd']],
  ['a\\1', ['a\\1']],
  ['trailing\\', ['trailing\\']],
  ['"a b" c', ['a b', 'c']],
  ['"a#b"', ['a#b']],
  ["'a b' c", ['a b', 'c']],
  ["'a\\x41 $HOME \"q\"'", ['a\\x41 $HOME "q"']],
  ['"it\'s"', ["it's"]],
  ['"a"\'b\'c', ['abc']],
  ['log-format "%{+Q}o %t"\' %s\'\\ %{-Q}r', ['log-format', '%{+Q}o %t %s %{-Q}r']],
  ['"$HOME/x"', ['/home/u/x']],
  ['"${HOME}x"', ['/home/ux']],
  ['"${NOPE-def ault}"', ['def ault']],
  ['"${EMPTY-def}"x', ['x']],
  ['"${HOME-def}"', ['/home/u']],
  ['$HOME', ['$HOME']],
  ['"\\$HOME"', ['$HOME']],
  ['\\$HOME', ['\\$HOME']],
  ['"${LIST[*]}" z', ['a', 'b', 'c', 'z']],
  ['x "${NOPE[*]}" z', ['x', 'z']],
  ['"${.LINE}" "${.FILE}" "${.SECTION}"', ['7', '/x.cfg', 'www']],
  ['bind "*:${PORT}"', ['bind', '*:8080']],
  ['a\rb', ['a']],
];

test('lexer splits words like HAProxy', () => {
  for (const [line, expected] of words) {
    const r = lexLine(line, env, pseudo);
    assert.ok(r.ok, line);
    assert.deepEqual(r.args, expected, line);
  }
});

test('lexer keeps empty words and points at their origin', () => {
  const r = lexLine('node "$NOPE" x', env, pseudo);
  assert.ok(r.ok);
  assert.deepEqual(r.args, ['node', '', 'x']);
  assert.equal(r.emptyAt, 7); // the variable name
  const q = lexLine('a "" b', env, pseudo);
  assert.ok(q.ok);
  assert.deepEqual(q.args, ['a', '', 'b']);
});

const errors: Array<[string, string, number]> = [
  ['description "abc', 'quote', 12],
  ["a 'b", 'quote', 2],
  ['"${HOME"', 'brace', 2],
  ['"${NOPE-x"', 'brace', 2],
  ['"$1abc"', 'varname', 2],
  ['"${.NOPE}"', 'varname', 3],
  ['\\x4g', 'hex', 0],
  ['"${LIST[x]}"', 'expand', 7],
];

test('lexer reports errors with their position', () => {
  for (const [line, kind, pos] of errors) {
    const r = lexLine(line, env, pseudo);
    assert.ok(!r.ok, line);
    assert.equal(r.kind, kind, line);
    assert.equal(r.pos, pos, line);
  }
});

test('legacy expansion of addresses', () => {
  assert.equal(envExpandLegacy('${HOME}:80', env), '/home/u:80');
  assert.equal(envExpandLegacy('127.0.0.1:$PORT', env), '127.0.0.1:8080');
  assert.equal(envExpandLegacy(':$NOPE', env), ':');
});
