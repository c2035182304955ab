// The test harness: start sluice, haproxy and nginx; scripted raw TCP peers; a query-driven origin
// server; HTTP clients. Integration tests import only this file.
export { which, skipUnless, requireBinary, repoRoot, sluiceBin } from './bins.js';
export { freePort, freePorts, canConnect } from './ports.js';
export {
  Proc,
  makeTempDir,
  startSluice,
  startHaproxy,
  startProcess,
  startWithConfig,
  runCheck,
  type ProcHandle,
  type StartOptions,
  type ExitInfo,
  type OutputLine,
  type LineMatcher,
  type CheckResult,
} from './proc.js';
export { Origin, startOrigin, bodyPattern, type EchoReport, type OriginRequest } from './origin.js';
export {
  RawConn,
  rawConnect,
  rawRequest,
  startRawServer,
  untilResponses,
  type RawServer,
  type RawResult,
  type RawRequestOptions,
  type DataPredicate,
} from './rawpeer.js';
export {
  HttpClient,
  request,
  buildRequest,
  curl,
  type RequestOptions,
  type HttpResponse,
  type CurlResult,
} from './http.js';
export { startNginx, nginxConfig, type NginxOptions, type NginxHandle } from './nginx.js';
export {
  H1Reader,
  H1ParseError,
  parseResponses,
  hasCompleteResponses,
  headerValue,
  headerValues,
  headerHasToken,
  type H1Message,
  type HeaderField,
} from './wire.js';
export { makeCa, tlsProbe, type TestCa, type IssuedCert, type IssueOptions, type TlsProbeOptions, type TlsProbeResult } from './certs.js';
export {
  H2Client,
  h2Request,
  nghttp,
  nghttpServerSettings,
  h2load,
  type H2Response,
  type H2RequestOptions,
  type H2ConnectOptions,
  type H2loadResult,
  type ToolResult,
} from './h2.js';
export { startTlsOrigin, type TlsOrigin, type TlsOriginOptions, type TlsOriginAlpn, type TlsSeen } from './tls-origin.js';
export { checkDiagnostics, diagnosticText } from './diags.js';
