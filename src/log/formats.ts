// HAProxy's built-in log formats (configuration.txt 8.2), as the log-format strings that the
// options stand for. The config layer turns `option httplog` & co into these strings.

import type { LogRecord } from './types.js';

/** `option httplog` (also ${HAPROXY_HTTP_LOG_FMT}). */
export const HTTPLOG_FORMAT =
  '%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r';

/** `option httplog clf`. */
export const HTTPLOG_CLF_FORMAT =
  '%{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl';

/** `option httpslog`: the HTTP format plus TLS details (its `%[...]` items need the sample engine). */
export const HTTPSLOG_FORMAT =
  HTTPLOG_FORMAT +
  ' %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc';

/** `option tcplog`. */
export const TCPLOG_FORMAT = '%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq';

/** `option tcplog clf`. */
export const TCPLOG_CLF_FORMAT =
  '%{+Q}o %{-Q}ci - - [%T] "TCP " 000 %B "" "" %cp %ms %ft %b %s %Th %Tw %Tc %Tt %U %ts-- %ac %fc %bc %sc %rc %sq %bq "" "" ';

/**
 * The line HAProxy logs at accept time for a frontend that has `log` targets but no log format
 * at all (configuration.txt 8.2.1, "default log format"):
 * "Connect from 10.0.1.2:33312 to 10.0.3.31:8012 (www/HTTP)".
 */
export function formatConnectLog(rec: LogRecord): string {
  const mode = rec.http ? 'HTTP' : 'TCP';
  const known = rec.frontendIp.length > 0 && rec.frontendIp !== '-';
  return (
    'Connect from ' + rec.clientIp + ':' + rec.clientPort +
    ' to ' + (known ? rec.frontendIp : 'undetermined address') + ':' + (known ? rec.frontendPort : 0) +
    ' (' + rec.frontendName + '/' + mode + ')'
  );
}
