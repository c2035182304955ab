// What a traffic log line is made of. The Stream fills one LogRecord per request (HTTP) or per
// connection (TCP) and hands it to the frontend's logger; formatting happens in the log module.

export interface LogRecord {
  /** Client address and port (%ci %cp). */
  clientIp: string;
  clientPort: number;
  /** Frontend address and port the client connected to (%fi %fp). */
  frontendIp: string;
  frontendPort: number;
  /** Backend-side source address/port (%bi %bp) and server address/port (%si %sp), "-"/0 if none. */
  backendSrcIp: string;
  backendSrcPort: number;
  serverIp: string;
  serverPort: number;
  /** Time the connection was accepted, ms since epoch (%t, %T, %Ts), with microseconds in acceptUs. */
  acceptDate: number;
  /** Time the request started (first byte of this request), ms since epoch (%tr, %trg, %trl). */
  requestDate: number;
  frontendName: string;
  /** The frontend connection is TLS (%ft gets a "~"). */
  ssl: boolean;
  backendName: string;
  /** "<NOSRV>" when no server was reached, "<STATS>" for the stats applet. */
  serverName: string;
  /** Timers in ms, -1 when the phase was not reached. */
  Th: number; // handshake
  Ti: number; // idle before the request
  TR: number; // receiving the request headers
  Tw: number; // waiting in queues
  Tc: number; // connecting to the server
  Tr: number; // server response headers
  Ta: number; // active time of the request (TR..end)
  Tt: number; // total session time
  Td: number; // data transfer
  /** HTTP status sent to the client (%ST), -1 if none. */
  status: number;
  /** Bytes sent to the client (%B) and received from it (%U). */
  bytesOut: number;
  bytesIn: number;
  /** Captured cookies, "-" when not captured (%CC %CS). */
  capturedReqCookie: string;
  capturedResCookie: string;
  /** Termination state, 4 characters (%tsc) e.g. "----", "SC--", "cD--". */
  termState: string;
  /** Concurrent connections: process (%ac), frontend (%fc), backend (%bc), server (%sc). */
  actconn: number;
  feconn: number;
  beconn: number;
  srvconn: number;
  /** Retries (%rc); `redispatched` prints it with a "+" prefix. */
  retries: number;
  redispatched: boolean;
  /** Queue positions (%sq %bq). */
  srvQueue: number;
  backendQueue: number;
  /** Captured request/response headers ({...} blocks), empty when none are configured. */
  capturedReqHeaders: string[];
  capturedResHeaders: string[];
  /** The request line "GET / HTTP/1.1" (%r), method (%HM), uri (%HU), path (%HP), query (%HQ), version "HTTP/1.1" (%HV). */
  requestLine: string;
  method: string;
  uri: string;
  httpVersion: string;
  /** A unique id for %ID, "" if none. */
  uniqueId: string;
  /** Mode of the stream; %r etc print "-" or "<BADREQ>" accordingly. */
  http: boolean;

  // Added by the log module for `%` aliases the fields above cannot provide.
  /** The stream's request number, unique in the process (%rt). */
  requestCounter: number;
  /** Log lines the frontend emitted before this one (%lc); the frontend counts them. */
  logCount: number;
  /** TLS protocol ("TLSv1.3") and cipher of the client connection, "" without TLS (%sslv %sslc). */
  sslVersion: string;
  sslCipher: string;
}

/** Syslog severities. */
export const enum LogLevel {
  Emerg = 0,
  Alert = 1,
  Crit = 2,
  Err = 3,
  Warning = 4,
  Notice = 5,
  Info = 6,
  Debug = 7,
}
