// The catalogue of errors that end a stream: termination causes and phases as HAProxy logs them
// (CFG 8.5) and the error pages HAProxy answers with. One place, so that every path that ends a
// stream says the same thing the same way.

/** First character of the termination state: who or what ended the session. */
export const enum Cause {
  None = 45, // '-'
  ClientAbort = 67, // 'C'
  ServerAbort = 83, // 'S' (also: server refused / error, no server available)
  Proxy = 80, // 'P' (proxy blocked it: deny, bad response)
  Local = 76, // 'L' (answered locally: http-request return, redirect)
  Resource = 82, // 'R'
  Internal = 73, // 'I'
  Down = 68, // 'D'
  Killed = 75, // 'K'
  /** Killed because a non-backup server came UP (`on-marked-up shutdown-backup-sessions`). */
  Up = 85, // 'U'
  ClientTimeout = 99, // 'c'
  ServerTimeout = 115, // 's'
}

/** Second character: the phase the session was in. */
export const enum Phase {
  None = 45, // '-'
  Request = 82, // 'R' waiting for the request
  Queue = 81, // 'Q'
  Connect = 67, // 'C'
  Headers = 72, // 'H' waiting for response headers
  Data = 68, // 'D'
  Last = 76, // 'L' last data to the client
  Tarpit = 84, // 'T'
}

/** The 4-character termination state (cookie characters are "--" until persistence exists). */
export function termState(cause: Cause, phase: Phase): string {
  return String.fromCharCode(cause, phase) + '--';
}

interface ErrorPage {
  /** Whole response, ready to write on an HTTP/1.x connection. */
  raw: Buffer;
  /** The same announcing `connection: close`, for when the connection must close after it. */
  rawClose: Buffer;
  /** The head alone, for an answer to HEAD. */
  head: Buffer;
  /** The connection closes after it (400, 408). */
  close: boolean;
  body: string;
}

const MESSAGES: Record<number, [string, string]> = {
  200: ['OK', 'Service ready.'],
  400: ['Bad request', 'Your browser sent an invalid request.'],
  401: ['Unauthorized', 'You need a valid user and password to access this content.'],
  403: ['Forbidden', 'Request forbidden by administrative rules.'],
  404: ['Not Found', 'The resource could not be found.'],
  405: ['Method Not Allowed', 'A request was made of a resource using a request method not supported by that resource'],
  407: ['Unauthorized', 'You need a valid user and password to access this content.'],
  408: ['Request Time-out', "Your browser didn't send a complete request in time."],
  410: ['Gone', 'The resource is no longer available and will not be available again.'],
  413: ['Payload Too Large', 'The request entity exceeds the maximum allowed.'],
  421: ['Misdirected Request', 'Request sent to a non-authoritative server.'],
  422: ['Unprocessable Content', 'The server cannot process the contained instructions.'],
  425: ['Too Early', 'Your browser sent early data.'],
  429: ['Too Many Requests', 'You have sent too many requests in a given amount of time.'],
  500: ['Internal Server Error', 'An internal server error occurred.'],
  501: ['Not Implemented', 'The server does not support the functionality required to fulfill the request.'],
  502: ['Bad Gateway', 'The server returned an invalid or incomplete response.'],
  503: ['Service Unavailable', 'No server is available to handle this request.'],
  504: ['Gateway Time-out', "The server didn't respond in time."],
};

/** Status codes HAProxy has a default page for (and that `errorfile` accepts). */
export const ERROR_CODES: readonly number[] = Object.keys(MESSAGES).map(Number);

const pages = new Map<number, ErrorPage>();

function build(status: number): ErrorPage {
  const [reason, text] = MESSAGES[status] ?? ['Unknown', ''];
  const body = `<html><body><h1>${status} ${reason}</h1>\n${text}\n</body></html>\n`;
  // 400 and 408 are sent before any request could be parsed: HAProxy writes them raw and
  // closes. The others go through the normal response path and keep the connection.
  const close = status === 400 || status === 408;
  const head = close
    ? `HTTP/1.1 ${status} ${reason}\r\nContent-length: ${body.length}\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n`
    : `HTTP/1.1 ${status} ${reason}\r\ncontent-length: ${body.length}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n`;
  const headClose = close ? head : head.slice(0, -2) + 'connection: close\r\n\r\n';
  return { raw: Buffer.from(head + body, 'latin1'), rawClose: Buffer.from(headClose + body, 'latin1'), head: Buffer.from(head, 'latin1'), close, body };
}

/** HAProxy's default error page for `status` (built once, shared). */
export function errorPage(status: number): ErrorPage {
  let p = pages.get(status);
  if (!p) {
    p = build(status);
    pages.set(status, p);
  }
  return p;
}
