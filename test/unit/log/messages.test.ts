// State-change messages, word for word as HAProxy logs them (compared with HAProxy 2.6 output).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  serverDownMessage,
  serverUpMessage,
  serverStoppingMessage,
  noServerAvailableMessage,
  healthCheckMessage,
  checkReportText,
} from '../../../src/log/index.js';

const refused = { desc: 'Layer4 connection problem', info: 'Connection refused', durationMs: 0 };

test('server DOWN after a failed check', () => {
  assert.equal(
    serverDownMessage({
      backend: 'be', server: 's1', backup: false, cause: refused,
      activeServers: 0, backupServers: 0, curSess: 0, xferred: 0, queued: 0,
    }),
    'Server be/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. ' +
      '0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
  );
});

test('server DOWN with log-health-checks (no reason repeated), as HAProxy 2.6 logged it', () => {
  assert.equal(
    serverDownMessage({
      backend: 'be', server: 's1', backup: false,
      activeServers: 0, backupServers: 0, curSess: 0, xferred: 0, queued: 0,
    }),
    'Server be/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
  );
});

test('backup servers, running on backup, UP and stopping, CLI causes, tracking', () => {
  const base = { backend: 'app', server: 'b1', backup: true, activeServers: 0, backupServers: 1, curSess: 2, xferred: 1, queued: 3 };
  assert.equal(
    serverUpMessage({ ...base, cause: { desc: 'Layer7 check passed', code: 200, info: 'OK', durationMs: 3 } }),
    'Backup Server app/b1 is UP, reason: Layer7 check passed, code: 200, info: "OK", check duration: 3ms. ' +
      '0 active and 1 backup servers online. Running on backup. 1 sessions requeued, 3 total in queue.',
  );
  assert.equal(
    serverStoppingMessage({ ...base, backup: false, activeServers: 2, backupServers: 0, cause: 'changed from CLI' }),
    // Worded as a server still online (srv_append_status: the next state is not STOPPED).
    'Server app/b1 is stopping, changed from CLI. 2 active and 0 backup servers online. 1 sessions requeued, 3 total in queue.',
  );
  assert.equal(
    serverDownMessage({ ...base, backup: false, tracking: 'other/s9', xferred: -1 }),
    'Server app/b1 is DOWN via other/s9.',
  );
});

test('backend without server', () => {
  assert.equal(noServerAvailableMessage('backend', 'be'), 'backend be has no server available!');
  assert.equal(noServerAvailableMessage('proxy', 'web', true), "proxy 'web' has no server available!");
});

test('health check results, with HAProxy 2.6\'s wording and status counters', () => {
  assert.equal(
    healthCheckMessage({
      agent: false, backend: 'be', server: 's1', backup: false, passed: false, conditional: false,
      report: refused, health: 0, rise: 1, fall: 1, drain: false,
    }),
    'Health check for server be/s1 failed, reason: Layer4 connection problem, info: "Connection refused", ' +
      'check duration: 0ms, status: 0/1 DOWN.',
  );
  assert.equal(
    healthCheckMessage({
      agent: false, backend: 'be', server: 's1', backup: true, passed: true, conditional: false,
      report: { desc: 'Layer4 check passed', durationMs: 1 }, health: 4, rise: 2, fall: 3, drain: false,
    }),
    'Health check for backup server be/s1 succeeded, reason: Layer4 check passed, check duration: 1ms, status: 3/3 UP.',
  );
  assert.equal(
    healthCheckMessage({
      agent: true, backend: 'be', server: 's1', backup: false, passed: true, conditional: true,
      report: { desc: 'Layer7 check conditionally passed', code: 404, durationMs: -1 }, health: 2, rise: 2, fall: 3, drain: true,
    }),
    'Agent check for server be/s1 conditionally succeeded, reason: Layer7 check conditionally passed, code: 404, status: 1/3 DRAIN.',
  );
});

test('check info is ASCII-encoded, quotes and angle brackets included', () => {
  assert.equal(
    checkReportText({ desc: 'Layer7 wrong status', code: 503, info: 'Service "Down" <x>\r\n', durationMs: 12 }),
    ', reason: Layer7 wrong status, code: 503, info: "Service <22>Down<22> <3C>x<3E><0D><0A>", check duration: 12ms',
  );
});
