import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/index.js';
import { Backend, SrvState } from '../../../src/backend/index.js';

test('server state changes are logged as HAProxy logs them, with the servers left', async () => {
  const { config, diagnostics } = await parseConfigText(
    `defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
backend be
    server s1 127.0.0.1:8001
    server s2 127.0.0.1:8002
    server b1 127.0.0.1:8003 backup
`,
    'test.cfg',
  );
  assert.ok(config, diagnostics.map((d) => d.message).join('\n'));
  const be = new Backend(config.proxies[0]!);
  const lines: Array<[number, string]> = [];
  be.stateLog = (level, msg) => lines.push([level, msg]);
  const [s1, s2, b1] = be.servers as [typeof be.servers[0], typeof be.servers[0], typeof be.servers[0]];
  be.setServerState(s1, SrvState.Down, 'changed from CLI');
  assert.deepEqual(lines.shift(), [1, 'Server be/s1 is DOWN, changed from CLI. 1 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.']);
  be.setServerState(s2, SrvState.Down);
  assert.match(lines.shift()![1], /^Server be\/s2 is DOWN\. 0 active and 1 backup servers left\. Running on backup\./);
  assert.equal(lines.length, 0, 'a backup is still there: no alert yet');
  be.setServerState(b1, SrvState.Maint);
  assert.match(lines.shift()![1], /^Backup Server be\/b1 is DOWN\. 0 active and 0 backup servers left\./);
  assert.deepEqual(lines.shift(), [0, 'backend be has no server available!']);
  be.setServerState(s1, SrvState.Up);
  assert.match(lines.shift()![1], /^Server be\/s1 is UP\. 1 active and 0 backup servers online\./);
  be.setServerState(s1, SrvState.Up);
  assert.equal(lines.length, 0, 'no change, no line');
});
