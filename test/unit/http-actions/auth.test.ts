// crypt(3) against vectors from `openssl passwd` and glibc/libxcrypt's crypt(), userlist
// sections with HAProxy 2.6.12's messages, and the http_auth fetches as HAProxy answered them
// for the same userlist and credentials.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AclTable } from '../../../src/acl/index.js';
import {
  UserlistBuilder,
  VerdictKind,
  checkUserlistHeader,
  crypt,
  resolveUserlistRefs,
  runHttpRules,
  takeUserlistRefs,
  type AnswerVerdict,
  type Userlist,
} from '../../../src/http/actions/index.js';
import { rule, ruleCtx, text } from './ctx.js';

const VECTORS: Array<[string, string, string | null]> = [
  // openssl passwd -5 -salt saltstring 'Hello world!' (and -6, -1 -salt saltstri)
  ['Hello world!', '$5$saltstring', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
  ['Hello world!', '$6$saltstring', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
  ['Hello world!', '$1$saltstri', '$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1'],
  // openssl passwd -5 -salt 'rounds=10000$saltstringsaltstring': the salt is cut to 16
  ['Hello world!', '$5$rounds=10000$saltstringsaltstring', '$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA'],
  ['password', '$1$x', '$1$x$ntiM1/Tz/A.K1foNwVMof0'],
  // libxcrypt's crypt(): empty password, hash part of the setting ignored, 8-character md5 salt
  ['', '$6$abc', '$6$abc$mJP3a6FyA8uCnzRtlnNypPwjnvpi5TP9qOrInzrfDmwxUQG38PkpCPdqfTb8JQfAngapMxeim4AZ..hSdRRzD.'],
  ['pass word', '$5$abc$junk', '$5$abc$AJNWwGOtbf2x9W0bN06J1uqFItzCA9LIt80lsFir/09'],
  ['pass word', '$1$12345678901$', '$1$12345678$xx9cdw2Cm1K0kRdom2zqj/'],
  ['', '$5$$', '$5$$3c2QQ0KjIU1OLtB29cl8Fplc2WN7X89bnoEjaR7tWu.'],
  ['Hello world!', '$6$rounds=1000$x', '$6$rounds=1000$x$AXZriv1EhkVmi2pUsOOluJ2moRsWhl8eg63p9bsXIg6/kFEOMxLAqaeemMhYvK/9i1KJo9cIV9dfRbooNjOgt/'],
  ['x', '$5$a-b$', '$5$a-b$rBl3f3qYr0gbepAbVnYyxhQe.BLtu2BFBy4QsJ4SJN1'],
  // settings libxcrypt refuses ("*0")
  ['x', '$5$a:b$', null],
  ['x', '$5$a b$', null],
  ['x', '$6$rounds=999$abc', null],
  ['x', '$6$rounds=1000000000$abc', null],
  ['x', '$5$rounds=01000$abc', null],
  ['x', '$5$rounds=1000x$abc', null],
  ['x', '$9$abc', null],
];

test('crypt vectors', () => {
  for (const [pw, setting, want] of VECTORS) assert.equal(crypt(pw, setting), want, `${pw} ${setting}`);
});

function collect(): { alerts: string[]; warnings: string[]; alert(m: string): void; warning(m: string): void } {
  const r = {
    alerts: [] as string[],
    warnings: [] as string[],
    alert(m: string) {
      r.alerts.push(m);
    },
    warning(m: string) {
      r.warnings.push(m);
    },
  };
  return r;
}

test('userlist lines: haproxy -c messages', () => {
  assert.deepEqual(checkUserlistHeader(['userlist']), { message: "'userlist' expects <name> as arguments.", spaced: false });
  assert.deepEqual(checkUserlistHeader(['userlist', 'a', 'b']), { message: "'userlist' cannot handle unexpected argument 'b'.", spaced: true });
  assert.deepEqual(checkUserlistHeader(['userlist', 'a!']), { message: "character '!' is not permitted in 'userlist' name 'a!'.", spaced: false });
  assert.equal(checkUserlistHeader(['userlist', 'L']), undefined);
  const cases: Array<[string[][], string[], string[]]> = [
    [[['user']], ["'user' expects <name> as arguments."], []],
    [[['user', 'bob', 'foo', 'x']], ["'user' only supports 'password', 'insecure-password' and 'groups' options."], []],
    [[['user', 'bob', 'insecure-password', 'x', 'groups', 'g1']], ["userlist 'L': no such group 'g1' specified in user 'bob'"], []],
    [[['group', 'g1', 'users', 'bob']], ["userlist 'L': no such user 'bob' specified in group 'g1'"], []],
    [[['group', 'g1', 'foo']], ["'group' only supports 'users' option."], []],
    [[['user', 'bob', 'insecure-password', 'x'], ['user', 'bob', 'insecure-password', 'y']], [], ["ignoring duplicated user 'bob' in userlist 'L'."]],
    [[['group', 'g!']], ["character '!' is not permitted in 'group' name 'g!'."], []],
    [[['foo']], ["unknown keyword 'foo' in 'users' section"], []],
    [[['group', 'g'], ['group', 'g']], [], ["ignoring duplicated group 'g' in userlist 'L'."]],
    // accepted by HAProxy: any password string (libxcrypt never fails), empty values
    [[['user', 'bob', 'password', '$9$abc'], ['user', 'ann', 'password'], ['user', 'joe', 'insecure-password']], [], []],
    // schemes sluice cannot compute are refused rather than never matching
    [[['user', 'bob', 'password', '$y$j9T$abc$def']], ["the encrypted password used for user 'bob' uses yescrypt, which is not supported yet by sluice."], []],
  ];
  for (const [lines, alerts, warnings] of cases) {
    const r = collect();
    const b = new UserlistBuilder('L');
    for (const l of lines) b.parseLine(l, r);
    b.build(r);
    assert.deepEqual([r.alerts, r.warnings], [alerts, warnings], JSON.stringify(lines));
  }
});

function userlistL(): Userlist {
  const r = collect();
  const b = new UserlistBuilder('L');
  b.parseLine(['group', 'admins', 'users', 'bob'], r);
  b.parseLine(['group', 'ops'], r);
  b.parseLine(['user', 'bob', 'insecure-password', 'secret'], r);
  b.parseLine(['user', 'ann', 'password', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5', 'groups', 'ops'], r);
  const l = b.build(r);
  assert.deepEqual(r.alerts, []);
  return l;
}

function basic(cred: string, scheme = 'Basic'): string {
  return `GET / HTTP/1.1\r\nAuthorization: ${scheme} ${Buffer.from(cred, 'latin1').toString('base64')}\r\n\r\n`;
}

test('userlist checks: insecure and crypt passwords, groups from both sides', () => {
  const l = userlistL();
  assert.equal(l.checkUser('bob', 'secret'), true);
  assert.equal(l.checkUser('bob', 'Secret'), false);
  assert.equal(l.checkUser('ann', 'Hello world!'), true);
  assert.equal(l.checkUser('ann', 'Hello world!'), true);
  assert.equal(l.checkUser('ann', 'wrong'), false);
  assert.equal(l.checkUser('nobody', 'x'), false);
  assert.deepEqual(l.groupsOf('bob'), ['admins']);
  assert.deepEqual(l.groupsOf('ann'), ['ops']);
});

test('http_auth and http_auth_group in ACLs and as samples (haproxy: admin / ops / 401)', () => {
  const table = new AclTable();
  table.add({ name: 'ok', args: ['http_auth(L)'], file: 't.cfg', line: 1 });
  table.add({ name: 'adm', args: ['http_auth_group(L)', 'admins'], file: 't.cfg', line: 2 });
  table.add({ name: 'opsg', args: ['http_auth_group(L)', 'ops', 'admins'], file: 't.cfg', line: 3 });
  const lists = new Map([['L', userlistL()]]);
  assert.deepEqual(resolveUserlistRefs(takeUserlistRefs(), lists, 'fe'), []);
  const rules = [
    rule('request', 'return status 200 content-type text/plain lf-string "ok=%[http_auth(L)] grp=%[http_auth_group(L)] type=%[http_auth_type] user=%[http_auth_user] pass=%[http_auth_pass]" if { path /info }', { acls: table }),
    rule('request', 'auth realm R unless ok', { acls: table }),
    rule('request', 'return status 200 content-type text/plain string admin if adm', { acls: table }),
    rule('request', 'return status 200 content-type text/plain string ops if opsg', { acls: table }),
    rule('request', 'return status 200 content-type text/plain string other', { acls: table }),
  ];
  for (const r of rules) assert.deepEqual(resolveUserlistRefs(r.userlistRefs, lists, 'fe', r.refWhere), []);
  const body = (raw: string): string => {
    const v = runHttpRules(rules, ruleCtx({ reqRaw: raw })) as AnswerVerdict;
    assert.equal(v.kind, VerdictKind.Answer);
    return v.status === 401 ? '401' : v.reply.body.toString('latin1');
  };
  const info = (raw: string): string => body(raw.replace('GET / ', 'GET /info '));
  assert.equal(body(basic('bob:secret')), 'admin');
  assert.equal(info(basic('bob:secret')), 'ok=1 grp=bob type=Basic user=bob pass=secret');
  assert.equal(body(basic('ann:Hello world!')), 'ops');
  assert.equal(info(basic('ann:Hello world!')), 'ok=1 grp=ann type=Basic user=ann pass=Hello world!');
  assert.equal(body(basic('ann:wrong')), '401');
  assert.equal(info(basic('ann:wrong')), 'ok=0 grp= type=Basic user=ann pass=wrong');
  assert.equal(body(basic('nobody:x')), '401');
  assert.equal(body(basic('bob:secret:x')), '401');
  // HAProxy compares the scheme on the length written: "B" is taken for Basic.
  assert.equal(info(basic('bob:secret', 'B  ')), 'ok=1 grp=bob type=Basic user=bob pass=secret');
  assert.equal(info('GET / HTTP/1.1\r\nAuthorization: Bearer abc\r\n\r\n'), 'ok= grp= type=Bearer user= pass=');
  assert.equal(body('GET / HTTP/1.1\r\nAuthorization: Basic !!!!\r\n\r\n'), '401');
  const challenge = runHttpRules(rules, ruleCtx({ reqRaw: basic('ann:wrong') })) as AnswerVerdict;
  assert.match(text(challenge.reply.bytes(false, false)), /www-authenticate: Basic realm="R"\r\n/);
});

test('proxy mode reads Proxy-Authorization', () => {
  const lists = new Map([['L', userlistL()]]);
  const r = rule('request', 'return status 200 lf-string %[http_auth(L)] content-type t');
  resolveUserlistRefs(r.userlistRefs, lists, 'fe');
  const raw = basic('bob:secret').replace('Authorization', 'Proxy-Authorization');
  assert.equal((r.exec(ruleCtx({ reqRaw: raw, useProxyAuth: true })) as AnswerVerdict).reply.body.toString(), '1');
  assert.equal((r.exec(ruleCtx({ reqRaw: raw })) as AnswerVerdict).reply.body.toString(), '');
});

test('unknown userlists: haproxy -c messages', () => {
  takeUserlistRefs();
  const table = new AclTable();
  table.add({ name: 'a', args: ['http_auth(nope)'], file: 't.cfg', line: 8 });
  const r = rule('request', 'set-header X %[http_auth_group(nope3)]', { acls: table, line: 10 });
  assert.deepEqual(resolveUserlistRefs(takeUserlistRefs(), new Map(), 'fe'), [
    { file: 't.cfg', line: 8, message: "unable to find userlist 'nope' referenced in arg 1 of ACL keyword 'http_auth' in proxy 'fe'." },
  ]);
  assert.deepEqual(resolveUserlistRefs(r.userlistRefs, new Map(), 'fe', r.refWhere), [
    {
      file: 'test.cfg',
      line: 10,
      message: "unable to find userlist 'nope3' referenced in arg 1 of sample fetch keyword 'http_auth_group' in http-request expression in proxy 'fe'.",
    },
  ]);
});
