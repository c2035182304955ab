// Routing and access rules over real sockets, each scenario run on sluice and on haproxy 2.6:
// `use-server` (giving way when its server is down, queueing behind its server's maxconn),
// dynamic `use_backend %[...]` with the fall-back to default_backend, and `http-request auth`
// against a userlist whose $5$/$6$ passwords are made by `openssl passwd` at test time (realm
// given, or the proxy's name when not).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before } from 'node:test';
import {
  rawConnect,
  startOrigin,
  startRawServer,
  untilResponses,
  headerValue,
  which,
  type H1Message,
  type Origin,
  type RawConn,
  type RawServer,
} from '../../harness/index.js';
import { sideTest, startSides, type Side, type Sides } from '../../harness/sides.js';
import { HTTPLOG, fields, lineFor } from '../log/lines.js';

const CONFIG = `
global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout queue 5s

userlist users
    group admins
    user alice password {{pw5}} groups admins
    user bob password {{pw6}}
    user carol insecure-password plain-secret

frontend auth
    bind 127.0.0.1:{{port:auth}}
    http-request auth realm "Private Zone" unless { http_auth(users) }
    http-request return status 200 content-type text/plain string "welcome"

frontend authnorealm
    bind 127.0.0.1:{{port:authnorealm}}
    http-request auth unless { http_auth(users) }
    http-request return status 200 content-type text/plain string "welcome"

frontend admins
    bind 127.0.0.1:{{port:admins}}
    http-request auth realm Admins unless { http_auth_group(users) admins }
    http-request return status 200 content-type text/plain string "admin"

frontend authbe
    bind 127.0.0.1:{{port:authbe}}
    default_backend private

backend private
    http-request auth unless { http_auth(users) }
    server o1 127.0.0.1:{{o1}}

frontend dyn
    bind 127.0.0.1:{{port:dyn}}
    use_backend be_%[req.hdr(x-target),lower]
    default_backend be_default

backend be_a
    server o1 127.0.0.1:{{o1}}
backend be_b
    server o2 127.0.0.1:{{o2}}
backend be_default
    server o3 127.0.0.1:{{o3}}

frontend usdown
    bind 127.0.0.1:{{port:usdown}}
    default_backend usdown

backend usdown
    use-server s2 if { path_beg /s2 }
    server s1 127.0.0.1:{{o1}}
    server s2 127.0.0.1:{{o2}} disabled

frontend usup
    bind 127.0.0.1:{{port:usup}}
    default_backend usup

backend usup
    use-server s2 if { path_beg /s2 }
    server s1 127.0.0.1:{{o1}}
    server s2 127.0.0.1:{{o2}}

frontend usq
    bind 127.0.0.1:{{port:usq}}
    default_backend usq

backend usq
    use-server held if { path_beg /q }
    server s1 127.0.0.1:{{o1}}
    server held 127.0.0.1:{{held}} maxconn 1
`;

/** A request the held server received, answered when the test says so. */
interface Held {
  path: string;
  respond(): Promise<void>;
}

let o1: Origin;
let o2: Origin;
let o3: Origin;
let heldServer: RawServer;
const held: Held[] = [];
let sides: Sides;

/** `openssl passwd -5|-6` of `password`. */
function cryptPassword(kind: '-5' | '-6', password: string): string {
  return execFileSync(which('openssl') ?? 'openssl', ['passwd', kind, password], { encoding: 'utf8' }).trim();
}

before(async () => {
  o1 = await startOrigin('o1');
  o2 = await startOrigin('o2');
  o3 = await startOrigin('o3');
  heldServer = await startRawServer(async (c) => {
    let seen = 0;
    for (let n = 0; n < 10; n++) {
      const data = await c.waitFor((d) => d.subarray(seen).includes('\r\n\r\n'), 10000);
      const end = data.subarray(seen).indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = data.subarray(seen, seen + end).toString('latin1');
      seen += end + 4;
      let answered!: () => void;
      const done = new Promise<void>((r) => (answered = r));
      held.push({
        path: head.split(' ')[1] ?? '',
        respond: async () => {
          await c.write('HTTP/1.1 200 OK\r\nX-Server: held\r\nContent-Length: 4\r\n\r\nheld');
          answered();
        },
      });
      await done;
    }
  });
  sides = await startSides(CONFIG, {
    values: {
      o1: o1.port,
      o2: o2.port,
      o3: o3.port,
      held: heldServer.port,
      pw5: cryptPassword('-5', 'alice-secret'),
      pw6: cryptPassword('-6', 'bob-secret'),
    },
  });
});

after(async () => {
  await sides?.stop();
  await Promise.all([o1?.close(), o2?.close(), o3?.close(), heldServer?.close()]);
});

const S = (): Sides => sides;

async function open(side: Side, name: string, t: { after(fn: () => void): void }): Promise<RawConn> {
  const c = await rawConnect(side.port(name));
  t.after(() => c.destroy());
  return c;
}

/** One request on a fresh connection to `name`; resolves with the response. */
async function get(side: Side, name: string, path: string, t: { after(fn: () => void): void }, headers: string[] = []): Promise<H1Message> {
  const c = await open(side, name, t);
  await c.write(`GET ${path} HTTP/1.1\r\nHost: rules.test\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`);
  await c.waitFor(untilResponses(1), 4000);
  const [r] = c.responses();
  assert.ok(r, `no response from ${name}${path}:\n${c.text()}`);
  return r;
}

const basic = (user: string, pass: string): string => `Authorization: Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

// ---- use-server ----

sideTest('use-server sends a matching request to its server', S, async (side, t) => {
  assert.equal(headerValue((await get(side, 'usup', '/s2/x', t)).headers, 'x-server'), 'o2');
  assert.equal(headerValue((await get(side, 'usup', '/other', t)).headers, 'x-server'), 'o1');
});

sideTest('use-server naming a server that is down gives way to normal balancing', S, async (side, t) => {
  const r = await get(side, 'usdown', '/s2/x', t);
  assert.equal(r.status, 200);
  assert.equal(headerValue(r.headers, 'x-server'), 'o1');
});

/**
 * Two requests for the `held` server (maxconn 1) of `usq`, the second sent while the first is
 * being served: checks that the second waits for that server only, and resolves with its log.
 */
async function queuedBehindUseServer(side: Side, t: { after(fn: () => void): void }) {
  held.length = 0;
  const mark = side.proc.mark();
  const before = o1.requestCount;
  const a = await open(side, 'usq', t);
  const b = await open(side, 'usq', t);
  await a.write('GET /q/first HTTP/1.1\r\nHost: rules.test\r\n\r\n');
  for (let i = 0; i < 200 && held.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(held.length, 1, 'the first request reached the held server');
  await b.write('GET /q/second HTTP/1.1\r\nHost: rules.test\r\n\r\n');
  // The second one must neither reach the busy server nor go to s1.
  await b.waitFor(() => false, 300);
  assert.equal(held.length, 1, 'the second request is not sent to the busy server');
  assert.equal(o1.requestCount, before, 'nor to the other server');
  assert.equal(b.received.length, 0);
  await held[0]!.respond();
  await a.waitFor(untilResponses(1), 3000);
  assert.equal(a.responses()[0]?.status, 200);
  for (let i = 0; i < 300 && held.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(held.length, 2, 'the queued request went to the held server once it was free');
  assert.equal(held[1]!.path, '/q/second');
  await held[1]!.respond();
  await b.waitFor(untilResponses(1), 3000);
  const [rb] = b.responses();
  assert.equal(headerValue(rb!.headers, 'x-server'), 'held');
  return fields(HTTPLOG, await lineFor(side.proc, b.socket.localPort!, 3000, mark));
}

sideTest("use-server with maxconn 1: a second request waits in that server's queue, not elsewhere", S, async (side, t) => {
  const f = await queuedBehindUseServer(side, t);
  assert.equal(f.s, 'held');
  assert.ok(Number(f.Tw) >= 250, `Tw counts the time in the queue: ${f.Tw}`);
});

sideTest('a request that waited in the server queue logs its place in it (%sq 1, %bq 0)', S, async (side, t) => {
  const f = await queuedBehindUseServer(side, t);
  assert.equal(`${f.sq}/${f.bq}`, '1/0');
});

// ---- dynamic use_backend ----

for (const [target, server] of [
  ['a', 'o1'],
  ['B', 'o2'],
  ['zzz', 'o3'],
] as const) {
  sideTest(`use_backend be_%[req.hdr(x-target),lower] with X-Target: ${target} goes to ${server}`, S, async (side, t) => {
    const r = await get(side, 'dyn', '/', t, [`X-Target: ${target}`]);
    assert.equal(r.status, 200);
    assert.equal(headerValue(r.headers, 'x-server'), server);
  });
}

sideTest('dynamic use_backend without the header (name "be_") falls back to default_backend', S, async (side, t) => {
  const mark = side.proc.mark();
  const c = await open(side, 'dyn', t);
  await c.write('GET / HTTP/1.1\r\nHost: rules.test\r\n\r\n');
  await c.waitFor(untilResponses(1), 3000);
  assert.equal(headerValue(c.responses()[0]!.headers, 'x-server'), 'o3');
  const f = fields(HTTPLOG, await lineFor(side.proc, c.socket.localPort!, 3000, mark));
  assert.equal(f.b, 'be_default');
});

sideTest('dynamic use_backend picks per request on one connection', S, async (side, t) => {
  const c = await open(side, 'dyn', t);
  const seen: string[] = [];
  for (const target of ['a', 'b', 'nope', 'a']) {
    const n = c.received.length;
    await c.write(`GET / HTTP/1.1\r\nHost: rules.test\r\nX-Target: ${target}\r\n\r\n`);
    await c.waitFor((d) => untilResponses(1)(d.subarray(n)), 3000);
    const rs = c.responses();
    seen.push(headerValue(rs[rs.length - 1]!.headers, 'x-server') ?? '?');
  }
  assert.deepEqual(seen, ['o1', 'o2', 'o3', 'o1']);
});

// ---- http-request auth and userlists ----

for (const [user, pass, kind] of [
  ['alice', 'alice-secret', '$5$'],
  ['bob', 'bob-secret', '$6$'],
  ['carol', 'plain-secret', 'insecure-password'],
] as const) {
  sideTest(`auth: ${user} (${kind}) with the right password passes`, S, async (side, t) => {
    const r = await get(side, 'auth', '/', t, [basic(user, pass)]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'welcome');
  });
}

for (const [label, headers] of [
  ['a wrong password', [basic('alice', 'bob-secret')]],
  ['an unknown user', [basic('mallory', 'alice-secret')]],
  ['no credentials', []],
  ['a scheme other than Basic', ['Authorization: Bearer abc']],
] as const) {
  sideTest(`auth: ${label} gets 401 with WWW-Authenticate: Basic realm="Private Zone"`, S, async (side, t) => {
    const r = await get(side, 'auth', '/', t, [...headers]);
    assert.equal(r.status, 401);
    assert.equal(headerValue(r.headers, 'www-authenticate'), 'Basic realm="Private Zone"');
    assert.match(r.body.toString(), /<h1>401 Unauthorized<\/h1>/);
  });
}

sideTest('auth without realm in a frontend: the realm is the frontend name', S, async (side, t) => {
  const r = await get(side, 'authnorealm', '/', t);
  assert.equal(r.status, 401);
  assert.equal(headerValue(r.headers, 'www-authenticate'), 'Basic realm="authnorealm"');
  assert.equal((await get(side, 'authnorealm', '/', t, [basic('bob', 'bob-secret')])).status, 200);
});

sideTest('auth without realm in a backend: the realm is the backend name', S, async (side, t) => {
  const r = await get(side, 'authbe', '/', t);
  assert.equal(r.status, 401);
  assert.equal(headerValue(r.headers, 'www-authenticate'), 'Basic realm="private"');
  const ok = await get(side, 'authbe', '/', t, [basic('carol', 'plain-secret')]);
  assert.equal(ok.status, 200);
  assert.equal(headerValue(ok.headers, 'x-server'), 'o1');
});

sideTest('http_auth_group: a member of the group passes, another valid user does not', S, async (side, t) => {
  assert.equal((await get(side, 'admins', '/', t, [basic('alice', 'alice-secret')])).status, 200);
  const r = await get(side, 'admins', '/', t, [basic('bob', 'bob-secret')]);
  assert.equal(r.status, 401);
  assert.equal(headerValue(r.headers, 'www-authenticate'), 'Basic realm="Admins"');
});
