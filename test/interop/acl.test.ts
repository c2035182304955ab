// ACL routing and conditional rules, through sluice and haproxy 2.6 running the same
// configuration: the same requests must reach the same backend (or get the same local answer).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { skipUnless, startOrigin, type Origin } from '../harness/index.js';
import { exchangeBoth, req, startReferencePair, type ReferencePair } from './reference.js';

const CONFIG = `
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s

frontend main
    bind 127.0.0.1:{{port:main}}
    acl is_api      path_beg /api/ /v2/
    acl is_static   path_end .css .js .png
    acl is_static   path_beg -i /static/
    acl host_admin  hdr(host) -i admin.ref.test
    acl has_token   req.hdr(x-token) -m found
    acl big_id      url_param(id) -m int gt 100
    acl local_net   src 127.0.0.0/8
    acl is_post     method POST
    http-request return status 401 content-type text/plain string "token needed" if host_admin !has_token
    http-request return status 405 if is_api METH_DELETE
    use_backend static if is_static
    use_backend api if is_api local_net or { hdr_beg(host) -i api. }
    use_backend big if big_id
    use_backend posts if is_post
    default_backend web

backend web
    server web 127.0.0.1:{{web}}
backend api
    server api 127.0.0.1:{{api}}
backend static
    server static 127.0.0.1:{{static}}
backend big
    server big 127.0.0.1:{{big}}
backend posts
    server posts 127.0.0.1:{{posts}}
`;

const CASES: Array<{ name: string; send: Buffer; status: number; server?: string }> = [
  { name: 'plain page goes to the default', send: req('GET', '/index.html'), status: 200, server: 'web' },
  { name: 'path_beg /api/', send: req('GET', '/api/users'), status: 200, server: 'api' },
  { name: 'path_beg second pattern', send: req('GET', '/v2/items'), status: 200, server: 'api' },
  { name: 'path_beg is case-sensitive without -i', send: req('GET', '/API/users'), status: 200, server: 'web' },
  { name: 'path_end .css', send: req('GET', '/a/b/site.css'), status: 200, server: 'static' },
  { name: 'two acl lines with one name are ORed (path_beg -i)', send: req('GET', '/STATIC/logo'), status: 200, server: 'static' },
  { name: 'query string is not part of the path', send: req('GET', '/page?f=x.css'), status: 200, server: 'web' },
  { name: 'url_param -m int gt', send: req('GET', '/item?id=101'), status: 200, server: 'big' },
  { name: 'url_param not greater', send: req('GET', '/item?id=100'), status: 200, server: 'web' },
  { name: 'url_param not a number', send: req('GET', '/item?id=abc'), status: 200, server: 'web' },
  { name: 'method POST', send: req('POST', '/form', [['Content-Length', '3']], { body: 'a=b' }), status: 200, server: 'posts' },
  { name: 'first matching use_backend wins (static before posts)', send: req('POST', '/x.js', [['Content-Length', '0']]), status: 200, server: 'static' },
  { name: 'anonymous ACL with hdr_beg -i', send: req('GET', '/anything', [], { host: 'API.other.test' }), status: 200, server: 'api' },
  { name: 'admin host without token: 401 from the rule', send: req('GET', '/', [], { host: 'admin.ref.test' }), status: 401 },
  { name: 'admin host with token goes on', send: req('GET', '/', [['X-Token', 'x']], { host: 'Admin.Ref.Test' }), status: 200, server: 'web' },
  { name: 'METH_DELETE on the api: 405', send: req('DELETE', '/api/users/1'), status: 405 },
  { name: 'DELETE elsewhere goes on', send: req('DELETE', '/page'), status: 200, server: 'web' },
  { name: 'METH_GET matches HEAD too (no rule hit here)', send: req('HEAD', '/api/x'), status: 200, server: 'api' },
];

describe('ACL routing compared with haproxy', { skip: skipUnless('haproxy') }, () => {
  let pair: ReferencePair;
  const origins: Origin[] = [];

  before(async () => {
    const values: Record<string, string> = {};
    for (const name of ['web', 'api', 'static', 'big', 'posts']) {
      const o = await startOrigin(name);
      origins.push(o);
      values[name] = String(o.port);
    }
    pair = await startReferencePair(CONFIG, { values });
  });

  after(async () => {
    await pair?.stop();
    for (const o of origins) await o.close();
  });

  for (const c of CASES) {
    test(c.name, async () => {
      const got = await exchangeBoth(pair, 'main', c.send, { methods: c.send.toString('latin1').startsWith('HEAD') ? ['HEAD'] : undefined, timeoutMs: 3000 });
      assert.equal(got.haproxy.status, c.status, `haproxy answered ${got.haproxy.status}: the case is wrong`);
      assert.equal(got.haproxy.server, c.server, 'haproxy chose another backend: the case is wrong');
      assert.equal(got.sluice.status, got.haproxy.status);
      assert.equal(got.sluice.server, got.haproxy.server);
    });
  }
});
