// `-c` on the health-check keywords (issue #5): option httpchk / tcp-check / log-health-checks,
// http-check and tcp-check rules, the check keywords of servers, spread-checks. Each case runs
// `haproxy -c` on the same file: every [ALERT] and [WARNING] line haproxy prints must come out of
// sluice too (pid and file name masked), with the same exit code. A second test checks the
// expectation itself against haproxy 2.6, so that a wrong expectation cannot pass unnoticed.
// Cases where sluice deliberately differs (what it refuses as not supported yet, HAProxy 3.x
// keywords) run on sluice only, with the reason.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCheck, skipUnless } from '../../harness/index.js';
import { checkDiagnostics, diagnosticText } from '../../harness/index.js';

interface Case {
  name: string;
  /** Lines of backend `be`, the first one is line 13. */
  body: string;
  /** One line in the global section (line 2). */
  global?: string;
  /** One line at the end of the defaults section (line 8). */
  defaults?: string;
  /** An alert expected (text after "config : "); null: no alert. */
  alert: string | null;
  warning?: string;
  /** Exit code, when it is not "1 with an alert, 0 without". */
  code?: number;
  /** sluice only, for this reason. */
  noReference?: string;
  /** sluice prints exactly haproxy's lines, not only them. */
  exact?: boolean;
}

function config(c: Case): string {
  return `global
${c.global ?? ''}
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
${c.defaults ?? ''}
frontend fe
    bind 127.0.0.1:1
    default_backend be
backend be
${c.body}
`;
}

const at = (line: number, msg: string): string => `parsing [CFG:${line}] : ${msg}`;
const srv = (line: number, name: string, msg: string): string => `[CFG:${line}] : 'server be/${name}' : ${msg}`;
const S = '    server s1 127.0.0.1:80 check';
const H = '    option httpchk\n';
const T = '    option tcp-check\n';
const NO_CA =
  "verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default.";
const HTTP_EXPECT_ONLY =
  "'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got";
const TCP_EXPECT_ONLY = "'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got";
const FIRST_CONNECT =
  "first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset.";
const NOT_YET = 'sluice refuses what it cannot run';

const CASES: Case[] = [
  // ---- valid configurations ----
  {
    name: 'every http-check rule and option together',
    body: `    option httpchk GET /health HTTP/1.1
    option log-health-checks
    http-check disable-on-404
    http-check send-state
    http-check comment "first connection"
    http-check connect default linger proto h1
    http-check send meth POST uri /x ver HTTP/1.1 hdr Host www hdr X-A "a b" body hello
    http-check expect min-recv 5 ok-status L7OK error-status L7STS tout-status L7TOUT on-success up on-error down comment c status 200-299,304
    http-check expect ! hdr name -m beg x- value -m sub bad
    http-check expect fhdr name-lf x-z value-lf 1%%
    http-check expect rstring ^ok
    http-check connect port 8080 addr 127.0.0.1 sni s alpn h2,http/1.1
    http-check send uri-lf /lf body-lf b
    http-check expect string-lf "up"
${S} inter 2s fastinter 1s downinter 5s rise 3 fall 2 slowstart 10s observe layer7 error-limit 5 on-error sudden-death on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions`,
    global: '    spread-checks 5',
    alert: null,
  },
  {
    name: 'every tcp-check rule together',
    body: `    option tcp-check
    tcp-check comment hello
    tcp-check connect port 6379 send-proxy linger proto none comment c
    tcp-check send PING\\r\\n comment ping
    tcp-check send-binary 50494e47
    tcp-check send-lf "x%%y"
    tcp-check send-binary-lf 0d0a
    tcp-check expect !string -ERR
    tcp-check expect rstring ^\\+PONG min-recv 5
    tcp-check expect binary 2b
    tcp-check expect rbinary ^2b
    tcp-check expect string-lf "%%"
    tcp-check expect binary-lf 0a
${S} agent-check agent-port 5000 agent-addr 127.0.0.2 agent-inter 3s agent-send "ready\\n" addr 127.0.0.3 port 6379 check-send-proxy`,
    alert: null,
  },
  {
    name: 'server check TLS keywords with verify none',
    body: `${S} check-ssl verify none check-sni chk.example check-alpn h2,http/1.1 no-check-ssl check-ssl`,
    alert: null,
  },
  { name: 'status list with a trailing comma', body: `${H}    http-check expect status 200,\n${S}`, alert: null },
  { name: 'http-check rules before option httpchk', body: `    http-check send\n    http-check send\n    option httpchk\n${S}`, alert: null },
  { name: 'tcp-check comment takes any words', body: `${T}    tcp-check comment a b c\n${S}`, alert: null },
  { name: 'connect alpn with empty names', body: `${T}    tcp-check connect alpn h2,,x\n${S}`, alert: null },
  { name: 'check-proto none with tcp checks', body: `${S} check-proto none`, alert: null },
  { name: 'agent-port out of range is taken', body: `${S} agent-check agent-port 70000`, alert: null },
  { name: 'agent port from port', body: `${S} agent-check port 81`, alert: null },
  { name: 'observe none', body: `${S} observe none`, alert: null },
  { name: 'server without port but with a check port', body: '    server s1 127.0.0.1 check port 80', alert: null },
  { name: 'spread-checks reads atol', body: S, global: '    spread-checks abc', alert: null },

  // ---- option httpchk / tcp-check / log-health-checks ----
  { name: 'option httpchk: too many arguments', body: `    option httpchk a b c d\n${S}`, alert: at(13, "'option httpchk' cannot handle unexpected argument 'd'.") },
  {
    name: 'option httpchk: headers hidden after the version',
    body: `    option httpchk GET / HTTP/1.1\\r\\nHost:\\ x\\r\\n\\r\\nbody\n${S}`,
    alert: null,
    warning: "parsing [CFG:13]: 'option httpchk' : hiding headers or body at the end of the version string is deprecated. Please, consider to use 'http-check send' directive instead.",
  },
  { name: 'option tcp-check: too many arguments', body: `    option tcp-check x\n${S}`, alert: at(13, "'option tcp-check' cannot handle unexpected argument 'x'.") },
  { name: 'no option httpchk', body: `    no option httpchk\n${S}`, alert: "parsing [CFG:13]: negation/default is not supported for option 'httpchk'." },
  { name: 'option log-health-checks: too many arguments', body: `    option log-health-checks x\n${S}`, alert: at(13, "'option log-health-checks' cannot handle unexpected argument 'x'.") },

  // ---- http-check ----
  { name: 'http-check: unknown rule', body: `    http-check foo\n${S}`, alert: at(13, "'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got 'foo'") },
  { name: 'http-check disable-on-404 with an argument', body: `    http-check disable-on-404 x\n${S}`, alert: at(13, "'http-check' cannot handle unexpected argument 'x'.") },
  { name: 'http-check comment without text', body: `    http-check comment\n${S}`, alert: at(13, "'http-check comment' : expects a string as argument.") },
  { name: 'http-check send meth without value', body: `${H}    http-check send meth\n${S}`, alert: at(14, "'http-check send' : 'meth' expects a string as argument..") },
  { name: 'http-check send unknown argument', body: `${H}    http-check send foo\n${S}`, alert: at(14, "'http-check send' : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got 'foo' as argument..") },
  { name: 'http-check send hdr without value', body: `${H}    http-check send hdr x\n${S}`, alert: at(14, "'http-check send' : 'hdr' expects <name> and <value> as arguments.") },
  { name: 'http-check send two Host headers', body: `${H}    http-check send hdr host a hdr Host b\n${S}`, alert: at(14, "'http-check send' : 'Host' header already defined (previous value is 'a').") },
  { name: 'http-check send header value with a lone %', body: `${H}    http-check send hdr x 100%\n${S}`, alert: at(14, "'http-check send' : truncated line after '%'.") },
  { name: 'http-check send after send', body: `${H}    http-check send\n    http-check send\n${S}`, alert: at(15, "'http-check send' : unable to add http-check send rule at step 2 (missing connect rule)..") },
  { name: 'http-check send after expect', body: `${H}    http-check expect status 200\n    http-check send\n${S}`, alert: at(15, "'http-check send' : unable to add http-check send rule at step 2 (missing connect rule)..") },
  { name: 'http-check send after expect written before the option', body: `    http-check expect status 200\n${H}    http-check send\n${S}`, alert: at(15, "'http-check send' : unable to add http-check send rule at step 2 (missing connect rule)..") },
  { name: 'http-check expect after connect', body: `${H}    http-check connect\n    http-check expect status 200\n${S}`, alert: at(15, "'http-check expect' : unable to add http-check expect rule at step 2 (missing send rule)..") },
  { name: 'http-check connect after connect', body: `${H}    http-check connect\n    http-check connect\n${S}`, alert: at(15, "'http-check connect' : unable to add http-check connect rule at step 2 (missing expect rule)..") },
  { name: 'http-check connect after a send', body: `${H}    http-check send\n    http-check connect\n${S}`, alert: at(15, `'http-check connect' : ${FIRST_CONNECT}`) },
  { name: 'http-check expect without pattern', body: `${H}    http-check expect\n${S}`, alert: at(14, "'http-check expect' : expects at least a matching pattern as arguments.") },
  { name: 'http-check expect status without value', body: `${H}    http-check expect status\n${S}`, alert: at(14, "'http-check expect' : 'status' expects a <pattern> as argument.") },
  { name: 'http-check expect bad status range', body: `${H}    http-check expect status 200-100\n${S}`, alert: at(14, "'http-check expect' : invalid range of status codes '200-100'.") },
  { name: 'http-check expect bad status character', body: `${H}    http-check expect status 2x0\n${S}`, alert: at(14, "'http-check expect' : invalid character 'x' in the list of status codes.") },
  { name: 'http-check expect bad rstatus regex', body: `${H}    http-check expect rstatus (\n${S}`, alert: at(14, "'http-check expect' : regex '(' is invalid (error=missing closing parenthesis, erroffset=1).") },
  { name: 'http-check expect bad rstring regex', body: `${H}    http-check expect rstring [a\n${S}`, alert: at(14, "'http-check expect' : regex '[a' is invalid (error=missing terminating ] for character class, erroffset=2).") },
  { name: 'http-check expect binary', body: `${H}    http-check expect binary 00\n${S}`, alert: at(14, `'http-check expect' : ${HTTP_EXPECT_ONLY} 'binary' as argument..`) },
  { name: 'http-check expect unknown word', body: `${H}    http-check expect foo bar\n${S}`, alert: at(14, `'http-check expect' : ${HTTP_EXPECT_ONLY} 'foo' as argument..`) },
  { name: 'http-check expect two patterns', body: `${H}    http-check expect string a string b\n${S}`, alert: at(14, "'http-check expect' : only on pattern expected.") },
  { name: 'http-check expect min-recv without value', body: `${H}    http-check expect min-recv\n${S}`, alert: at(14, "'http-check expect' : 'min-recv' expects a integer as argument.") },
  { name: 'http-check expect min-recv below -1', body: `${H}    http-check expect min-recv -2 string a\n${S}`, alert: at(14, "'http-check expect' : 'min-recv' expects -1 or an integer from 0 to INT_MAX.") },
  { name: 'http-check expect ! before min-recv', body: `${H}    http-check expect ! min-recv 2 string a\n${S}`, alert: at(14, "'http-check expect' : [!] not supported with 'min-recv'.") },
  { name: 'http-check expect bad ok-status', body: `${H}    http-check expect ok-status L8OK string a\n${S}`, alert: at(14, "'http-check expect' : 'ok-status' only supports 'L4OK', 'L6OK', 'L7OK' or 'L7OKC' status (got 'L8OK')..") },
  { name: 'http-check expect bad error-status', body: `${H}    http-check expect error-status L7OK string a\n${S}`, alert: at(14, "'http-check expect' : 'error-status' only supports 'L4CON', 'L6RSP', 'L7RSP' or 'L7STS' status (got 'L7OK')..") },
  { name: 'http-check expect bad tout-status', body: `${H}    http-check expect tout-status L7OK string a\n${S}`, alert: at(14, "'http-check expect' : 'tout-status' only supports 'L4TOUT', 'L6TOUT' or 'L7TOUT' status (got 'L7OK')..") },
  { name: 'http-check expect hdr without name keyword', body: `${H}    http-check expect hdr foo\n${S}`, alert: at(14, "'http-check expect' : 'hdr' expects at the name keyword as first argument followed by a pattern.") },
  { name: 'http-check expect hdr bad match method', body: `${H}    http-check expect hdr name -m foo x\n${S}`, alert: at(14, "'http-check expect' : 'hdr' : '-m' only supports 'str', 'beg', 'end', 'sub' or 'reg' (got 'foo').") },
  { name: 'http-check expect hdr -m without method', body: `${H}    http-check expect hdr name -m\n${S}`, alert: at(14, "'http-check expect' : 'hdr' : '-m' expects at a matching pattern ('str', 'beg', 'end', 'sub' or 'reg').") },
  { name: 'http-check expect hdr value without pattern', body: `${H}    http-check expect hdr name x value\n${S}`, alert: at(14, "'http-check expect' : 'hdr' expect a pattern with the value keyword.") },
  { name: 'http-check expect hdr bad value regex', body: `${H}    http-check expect hdr name x value -m reg (\n${S}`, alert: at(14, "'http-check expect' : regex '(' is invalid (error=missing closing parenthesis, erroffset=1).") },
  { name: 'http-check expect name-lf with a regex', body: `${H}    http-check expect hdr name-lf x -m reg\n${S}`, alert: at(14, `'http-check expect' : ${HTTP_EXPECT_ONLY} '-m' as argument..`) },
  { name: 'http-check connect unknown argument', body: `${H}    http-check connect foo\n${S}`, alert: at(14, "'http-check connect' : expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got 'foo' as argument..") },
  { name: 'http-check connect port without value', body: `${H}    http-check connect port\n${S}`, alert: at(14, "'http-check connect' : 'port' expects a port number or a sample expression as argument..") },
  { name: 'http-check connect port 0', body: `${H}    http-check connect port 0\n${S}`, alert: at(14, "'http-check connect' : expects a valid TCP port (from range 1 to 65535) or a sample expression, got 0..") },
  { name: 'http-check connect port 70000', body: `${H}    http-check connect port 70000\n${S}`, alert: at(14, "'http-check connect' : expects a valid TCP port (from range 1 to 65535) or a sample expression, got 70000..") },
  { name: 'http-check connect unknown proto', body: `${H}    http-check connect proto foo\n${S}`, alert: at(14, "'http-check connect' : 'proto' : unknown MUX protocol 'foo'..") },
  { name: 'http-check connect proto none', body: `${H}    http-check connect proto none\n${S}`, alert: at(14, "'http-check connect' : 'proto' : invalid MUX protocol 'none' for http-check.") },
  { name: 'http-check connect alpn without value', body: `${H}    http-check connect alpn\n${S}`, alert: at(14, "'http-check connect' : 'alpn' : missing the comma-delimited ALPN protocol suite.") },
  { name: 'http-check connect sni without value', body: `${H}    http-check connect sni\n${S}`, alert: at(14, "'http-check connect' : 'sni' expects a string as argument..") },
  { name: 'http-check connect addr without value', body: `${H}    http-check connect addr\n${S}`, alert: at(14, "'http-check connect' : 'addr' expects <ipv4|ipv6> as argument..") },
  { name: 'http-check connect addr that does not resolve', body: `${H}    http-check connect addr nonexistent.invalid port 80\n${S}`, alert: at(14, "'http-check connect' : 'addr' : invalid address: 'nonexistent.invalid' in 'nonexistent.invalid'") },
  { name: 'http-check connect addr with a bad port', body: `${H}    http-check connect addr 1.2.3.4:abc\n${S}`, alert: at(14, "'http-check connect' : 'addr' : invalid character 'a' in port number 'abc' in '1.2.3.4:abc'") },

  // ---- tcp-check ----
  { name: 'tcp-check: unknown rule', body: `${T}    tcp-check foo\n${S}`, alert: at(14, "'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got 'foo'") },
  { name: 'tcp-check send without data', body: `${T}    tcp-check send\n${S}`, alert: at(14, "'tcp-check send' : 'string' expects a send as argument.") },
  { name: 'tcp-check send-binary without data', body: `${T}    tcp-check send-binary\n${S}`, alert: at(14, "'tcp-check send-binary' : 'binary string' expects a send-binary as argument.") },
  { name: 'tcp-check send-binary with a bad digit', body: `${T}    tcp-check send-binary zz\n${S}`, alert: at(14, "'tcp-check send-binary' : 'zz' invalid binary string (an hex digit is expected (found 'z')).") },
  { name: 'tcp-check send-binary with an odd length', body: `${T}    tcp-check send-binary 0\n${S}`, alert: at(14, "'tcp-check send-binary' : '0' invalid binary string (an even number of hex digit is expected).") },
  { name: 'tcp-check send-lf without data', body: `${T}    tcp-check send-lf\n${S}`, alert: at(14, "'tcp-check send-lf' : 'string' expects a send-lf as argument.") },
  { name: 'tcp-check send extra word', body: `${T}    tcp-check send a b\n${S}`, alert: at(14, "'tcp-check send' : expects 'comment' but got 'b' as argument..") },
  { name: 'tcp-check send comment without text', body: `${T}    tcp-check send a comment\n${S}`, alert: at(14, "'tcp-check send' : 'comment' expects a string as argument..") },
  { name: 'tcp-check send-lf with an unknown fetch', body: `${T}    tcp-check send-lf %[foo]\n${S}`, alert: at(14, "'tcp-check send-lf' : '%[foo]' invalid log-format string (failed to parse sample expression <foo]> : unknown fetch method 'foo').") },
  { name: 'tcp-check expect without pattern', body: `${T}    tcp-check expect\n${S}`, alert: at(14, "'tcp-check expect' : expects at least a matching pattern as arguments.") },
  { name: 'tcp-check expect status', body: `${T}    tcp-check expect status 200\n${S}`, alert: at(14, `'tcp-check expect' : ${TCP_EXPECT_ONLY} 'status' as argument..`) },
  { name: 'tcp-check expect hdr', body: `${T}    tcp-check expect hdr name x\n${S}`, alert: at(14, `'tcp-check expect' : ${TCP_EXPECT_ONLY} 'hdr' as argument..`) },
  { name: 'tcp-check expect bad binary', body: `${T}    tcp-check expect binary zz\n${S}`, alert: at(14, "'tcp-check expect' : invalid binary string (an hex digit is expected (found 'z')).") },
  { name: 'tcp-check expect odd binary', body: `${T}    tcp-check expect binary 0\n${S}`, alert: at(14, "'tcp-check expect' : invalid binary string (an even number of hex digit is expected).") },
  { name: 'tcp-check expect bad rbinary', body: `${T}    tcp-check expect rbinary (\n${S}`, alert: at(14, "'tcp-check expect' : regex '(' is invalid (error=missing closing parenthesis, erroffset=1).") },
  { name: 'tcp-check expect string-lf with an unknown fetch', body: `${T}    tcp-check expect string-lf %[foo]\n${S}`, alert: at(14, "'tcp-check expect' : '%[foo]' invalid log-format string (failed to parse sample expression <foo]> : unknown fetch method 'foo').") },
  { name: 'tcp-check connect proto h2', body: `${T}    tcp-check connect proto h2\n${S}`, alert: at(14, "'tcp-check connect' : 'proto' : invalid MUX protocol 'h2' for tcp-check.") },
  { name: 'tcp-check connect after a send', body: `${T}    tcp-check send x\n    tcp-check connect\n${S}`, alert: at(15, `'tcp-check connect' : ${FIRST_CONNECT}`) },

  // ---- rules without their option, and their flags ----
  { name: 'http-check rules without option httpchk', body: `    http-check send\n${S}`, alert: null, warning: "backend 'be' uses http-check rules without 'option httpchk', so the rules are ignored." },
  { name: 'tcp-check rules without option tcp-check', body: `    tcp-check send x\n${S}`, alert: null, warning: "backend 'be' uses tcp-check rules without 'option tcp-check', so the rules are ignored." },
  { name: 'disable-on-404 with tcp-check', body: `${T}    http-check disable-on-404\n${S}`, alert: null, warning: "'disable-on-404' will be ignored for backend 'be' (requires 'option httpchk')." },
  { name: 'send-state with tcp-check', body: `${T}    http-check send-state\n${S}`, alert: null, warning: "'send-state' will be ignored for backend 'be' (requires 'option httpchk')." },
  { name: 'tcp-check rules then option httpchk: no warning', body: `    tcp-check send x\n    option httpchk\n${S}`, alert: null },
  { name: 'defaults option httpchk, backend http-check send', defaults: '    option httpchk', body: `    http-check send\n${S}`, alert: null },
  {
    name: 'defaults: disable-on-404 and send-state warn in frontends, whose checks are not HTTP',
    defaults: '    option httpchk\n    http-check disable-on-404\n    http-check send-state',
    body: S,
    alert: null,
    warning: "'disable-on-404' will be ignored for frontend 'fe' (requires 'option httpchk').",
    exact: true,
  },
  { name: 'a disabled backend is not checked', body: '    disabled\n    http-check send\n    server s1 127.0.0.1 check', alert: null, exact: true },
  {
    name: 'defaults http-check rules with a bad order',
    defaults: '    option httpchk',
    body: `    http-check expect status 200\n    http-check send\n${S}`,
    alert: at(14, "'http-check send' : unable to add http-check send rule at step 2 (missing connect rule).."),
  },

  // ---- server keywords ----
  { name: 'server addr without value', body: `${S} addr`, alert: srv(13, 's1', "'addr' expects <ipv4|ipv6> as argument..") },
  { name: 'server addr with a bad port', body: `${S} addr 1.2.3.4:abc`, alert: srv(13, 's1', "'addr' : invalid character 'a' in port number 'abc' in '1.2.3.4:abc'.") },
  { name: 'server addr ::1 (the last colon is the port)', body: `${S} addr ::1`, alert: srv(13, 's1', "'addr' : invalid address: ':' in '::1'.") },
  { name: 'server addr that does not resolve', body: `${S} addr nonexistent.invalid`, alert: srv(13, 's1', "'addr' : invalid address: 'nonexistent.invalid' in 'nonexistent.invalid'.") },
  { name: 'server addr localhost resolves', body: `${S} addr localhost`, alert: null },
  { name: 'check-alpn without value', body: `${S} check-alpn`, alert: srv(13, 's1', "'check-alpn' : missing the comma-delimited ALPN protocol suite.") },
  { name: 'check-sni without value', body: `${S} check-sni`, alert: srv(13, 's1', "'check-sni' : missing SNI.") },
  { name: 'check-proto without value', body: `${S} check-proto`, alert: srv(13, 's1', "'check-proto' : missing value.") },
  { name: 'check-proto unknown', body: `${S} check-proto foo`, alert: srv(13, 's1', "'check-proto' :  unknown MUX protocol 'foo'.") },
  { name: 'check-proto h2 with a layer-4 check', body: `${S} check-proto h2`, alert: "config: backend 'be': server 's1' uses an incompatible MUX protocol for the selected check type" },
  { name: 'check-proto none with an HTTP check', body: `${H}${S} check-proto none`, alert: "config: backend 'be': server 's1' uses an incompatible MUX protocol for the selected check type" },
  { name: 'check-ssl without CA', body: `${S} check-ssl`, alert: srv(13, 's1', NO_CA) },
  { name: 'check-ssl without check needs CA too', body: '    server s1 127.0.0.1:80 check-ssl', alert: srv(13, 's1', NO_CA) },
  { name: 'tcp-check connect ssl: every server needs CA', body: `${T}    tcp-check connect ssl\n    server s1 127.0.0.1:80`, alert: srv(15, 's1', NO_CA) },
  { name: 'check-ssl with ssl-server-verify none', global: '    ssl-server-verify none', body: `${S} check-ssl`, alert: null },
  { name: 'agent-check without agent port', body: `${S} agent-check`, alert: srv(13, 's1', 'server s1 does not have agent port. Agent check has been disabled.') },
  { name: 'agent-check with agent-port 0', body: `${S} agent-check agent-port abc port 80`, alert: srv(13, 's1', 'server s1 does not have agent port. Agent check has been disabled.') },
  { name: 'agent-check from default-server without port', body: `    default-server agent-check\n${S}`, alert: srv(14, 's1', 'server s1 does not have agent port. Agent check has been disabled.') },
  { name: 'agent-port without value', body: `${S} agent-check agent-port`, alert: srv(13, 's1', "'agent-port' expects a port number as argument..") },
  { name: 'agent-addr without value', body: `${S} agent-check agent-addr`, alert: srv(13, 's1', "'agent-addr' expects an address as argument..") },
  { name: 'agent-addr that does not resolve', body: `${S} agent-check agent-port 90 agent-addr foo.invalid`, alert: srv(13, 's1', "parsing agent-addr failed. Check if 'foo.invalid' is correct address..") },
  { name: 'agent-send without value', body: `${S} agent-check agent-send`, alert: srv(13, 's1', "'agent-send' expects a string as argument..") },
  { name: 'agent-inter without value', body: `${S} agent-inter`, alert: srv(13, 's1', "'agent-inter' expects a delay as argument..") },
  { name: 'agent-inter 0', body: `${S} agent-inter 0`, alert: srv(13, 's1', "invalid value 0 for argument 'agent-inter' of server s1..") },
  { name: 'agent-inter with a bad unit', body: `${S} agent-inter 1x`, alert: srv(13, 's1', "unexpected character 'x' in 'agent-inter' argument of server s1..") },
  { name: 'observe without value', body: `${S} observe`, alert: srv(13, 's1', "'observe' expects <mode> as argument..") },
  { name: 'observe unknown', body: `${S} observe foo`, alert: srv(13, 's1', "'observe' expects one of 'none', 'layer4', 'layer7' but got 'foo'.") },
  // An alert that does not fail the configuration.
  { name: 'observe layer7 in a tcp backend', defaults: '    mode tcp', body: `${S} observe layer7`, alert: srv(13, 's1', "'layer7' can only be used in http proxies.."), code: 0 },
  { name: 'error-limit without value', body: `${S} error-limit`, alert: srv(13, 's1', "'error-limit' expects an integer argument..") },
  { name: 'error-limit 0', body: `${S} error-limit 0`, alert: srv(13, 's1', 'error-limit has to be > 0..') },
  { name: 'on-error without value', body: `${S} on-error`, alert: srv(13, 's1', "'on-error' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got ''.") },
  { name: 'on-error unknown', body: `${S} on-error foo`, alert: srv(13, 's1', "'on-error' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got 'foo'.") },
  { name: 'on-marked-down unknown', body: `${S} on-marked-down foo`, alert: srv(13, 's1', "'on-marked-down' expects 'shutdown-sessions' but got 'foo'.") },
  { name: 'on-marked-up unknown', body: `${S} on-marked-up foo`, alert: srv(13, 's1', "'on-marked-up' expects 'shutdown-backup-sessions' but got 'foo'.") },
  { name: 'slowstart with a bad unit', body: `${S} slowstart 1x`, alert: srv(13, 's1', "unexpected character 'x' in 'slowstart' argument of server s1..") },
  { name: 'slowstart overflow', body: `${S} slowstart 99999999999`, alert: srv(13, 's1', 'overflow in argument <99999999999> to <slowstart> of server s1, maximum value is 2147483647 ms (~24.8 days)..') },
  { name: 'server without any port', body: '    server s1 127.0.0.1 check', alert: "config: backend 'be': server 's1' has neither service port nor check port." },
  {
    name: 'server without any port, tcp-check starting with a send',
    body: `${T}    tcp-check send x\n    server s1 127.0.0.1 check`,
    alert: "config: backend 'be': server 's1' has neither service port nor check port nor tcp_check rule 'connect' with port information.",
  },
  {
    name: 'server without any port, a connect without port',
    body: `${T}    tcp-check connect port 80\n    tcp-check send x\n    tcp-check connect\n    server s1 127.0.0.1 check`,
    alert: "config: backend 'be': server 's1' has neither service port nor check port, and a tcp_check rule 'connect' with no port information.",
  },

  // ---- global ----
  { name: 'spread-checks above 50', global: '    spread-checks 51', body: S, alert: "parsing [CFG:2]: 'spread-checks' needs a positive value in range 0..50." },
  { name: 'spread-checks negative', global: '    spread-checks -1', body: S, alert: "parsing [CFG:2]: 'spread-checks' needs a positive value in range 0..50." },
  { name: 'spread-checks without value', global: '    spread-checks', body: S, alert: "parsing [CFG:2]: 'spread-checks' expects an integer argument (0..50)." },
  { name: 'spread-checks with two values', global: '    spread-checks 10 20', body: S, alert: "parsing [CFG:2] : 'spread-checks' cannot handle unexpected argument '20'." },

  // ---- sluice only ----
  { name: 'http-check expect custom', body: `${H}    http-check expect custom\n${S}`, alert: at(14, "'http-check expect' : 'expect custom' is not supported yet by sluice."), noReference: NOT_YET },
  { name: 'connect port expression', body: `${T}    tcp-check connect port srv_port\n${S}`, alert: at(14, "'tcp-check connect' : sample expressions as check port ('srv_port') are not supported yet by sluice."), noReference: NOT_YET },
  { name: 'connect via-socks4', body: `${T}    tcp-check connect via-socks4\n${S}`, alert: at(14, "'tcp-check connect' : 'via-socks4' is not supported yet by sluice."), noReference: NOT_YET },
  { name: 'connect addr on a UNIX socket', body: `${T}    tcp-check connect addr unix@/tmp/x\n${S}`, alert: at(14, "'tcp-check connect' : check addresses on UNIX sockets ('unix@/tmp/x') are not supported yet by sluice."), noReference: NOT_YET },
  { name: 'server addr on a UNIX socket', body: `${S} addr unix@/tmp/x`, alert: srv(13, 's1', "check addresses on UNIX sockets ('unix@/tmp/x') are not supported yet by sluice."), noReference: NOT_YET },
  { name: 'log-format with a sample in a check', body: `${H}    http-check send hdr X-Date %[date]\n${S}`, alert: at(14, "'http-check send' : log-format expressions in health checks ('%[date]') are not supported yet by sluice."), noReference: NOT_YET },
  { name: 'tcp-check set-var', body: `${T}    tcp-check set-var(check.x) int(1)\n${S}`, alert: at(14, "'tcp-check set-var' is not supported yet by sluice."), noReference: NOT_YET },
  { name: 'http-check expect status-code', body: `${H}    http-check expect status-code int(200) status 200\n${S}`, alert: at(14, "'http-check expect' : 'status-code' in expect rules is not supported yet by sluice."), noReference: NOT_YET },
  { name: 'check-proto fcgi', body: `${H}${S} check-proto fcgi`, alert: srv(14, 's1', "'check-proto' :  unknown MUX protocol 'fcgi'."), noReference: 'sluice has no FastCGI, as for proto fcgi' },
  {
    name: 'check-proto on default-server is not passed on',
    body: `${H}    default-server check-proto h2\n${S}`,
    alert: null,
    warning: "parsing [CFG:14] : 'check-proto' on a 'default-server' line is not passed on to the servers (as in HAProxy); set it on the 'server' lines.",
    noReference: 'a warning of sluice: HAProxy ignores it silently',
  },
  { name: 'init-state', body: `${S} init-state fully-up`, alert: null, noReference: 'init-state is HAProxy 3.1+' },
  {
    name: 'init-state with a bad value',
    body: `${S} init-state sideways`,
    alert: srv(13, 's1', "'init-state' expects one of 'none', 'fully-up', 'up', 'down', or 'fully-down' but got 'sideways'."),
    noReference: 'init-state is HAProxy 3.1+ (the wording of the current HAProxy)',
  },
];

const noHaproxy = skipUnless('haproxy');

function check(lines: string[], c: Case, who: string, out: string): void {
  const texts = lines.map(diagnosticText);
  if (c.alert !== null) assert.ok(texts.includes(c.alert), `${who}: no alert\n  ${c.alert}\n${out}`);
  if (c.warning !== undefined) assert.ok(texts.includes(c.warning), `${who}: no warning\n  ${c.warning}\n${out}`);
}

const expectedCode = (c: Case): number => c.code ?? (c.alert === null ? 0 : 1);

describe('-c on health-check keywords', { concurrency: 4 }, () => {
  for (const c of CASES) {
    test(`-c: ${c.name}`, async () => {
      const text = config(c);
      const s = await runCheck('sluice', text);
      const sl = checkDiagnostics(s.stderr);
      assert.equal(s.code, expectedCode(c), `sluice exit code\n${s.stderr}`);
      check(sl, c, 'sluice', s.stderr);
      if (c.noReference !== undefined || noHaproxy !== false) return;
      // Every alert and warning haproxy prints, sluice prints as well.
      const h = await runCheck('haproxy', text);
      const hl = checkDiagnostics(h.stderr);
      for (const l of hl) assert.ok(sl.includes(l), `haproxy's line is missing:\n  ${l}\nsluice printed:\n  ${sl.join('\n  ')}`);
      if (c.exact) assert.deepEqual(sl, hl);
    });

    test(`-c: ${c.name} [haproxy 2.6]`, { skip: c.noReference ?? noHaproxy }, async () => {
      const h = await runCheck('haproxy', config(c));
      assert.equal(h.code, expectedCode(c), h.stderr);
      check(checkDiagnostics(h.stderr), c, 'haproxy', h.stderr);
    });
  }
});
