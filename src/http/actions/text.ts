// Small text helpers of the rule compiler: configuration text (UTF-8) versus wire byte strings
// (one character per byte, as the HTTP/1 codec produces them), and HAProxy's reason phrases.

/** Configuration text to a byte string: "é" becomes the two characters of its UTF-8 bytes. */
export function toBytes(s: string): string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return Buffer.from(s, 'utf8').toString('latin1');
  return s;
}

/** Inverse of toBytes, for text that goes back to a compiler expecting configuration text. */
export function fromBytes(s: string): string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return Buffer.from(s, 'latin1').toString('utf8');
  return s;
}

// HAProxy's reason phrases (http.c http_get_reason); they differ from other tables in places
// ("302 Moved Temporarily", "502 Bad Gateway or Proxy Error"), and sluice copies HAProxy.
const REASONS = new Map<number, string>([
  [100, 'Continue'], [101, 'Switching Protocols'], [102, 'Processing'], [200, 'OK'], [201, 'Created'],
  [202, 'Accepted'], [203, 'Non-Authoritative Information'], [204, 'No Content'], [205, 'Reset Content'],
  [206, 'Partial Content'], [207, 'Multi-Status'], [210, 'Content Different'], [226, 'IM Used'],
  [300, 'Multiple Choices'], [301, 'Moved Permanently'], [302, 'Moved Temporarily'], [303, 'See Other'],
  [304, 'Not Modified'], [305, 'Use Proxy'], [307, 'Temporary Redirect'], [308, 'Permanent Redirect'],
  [310, 'Too many Redirects'], [400, 'Bad Request'], [401, 'Unauthorized'], [402, 'Payment Required'],
  [403, 'Forbidden'], [404, 'Not Found'], [405, 'Method Not Allowed'], [406, 'Not Acceptable'],
  [407, 'Proxy Authentication Required'], [408, 'Request Time-out'], [409, 'Conflict'], [410, 'Gone'],
  [411, 'Length Required'], [412, 'Precondition Failed'], [413, 'Request Entity Too Large'],
  [414, 'Request-URI Too Long'], [415, 'Unsupported Media Type'], [416, 'Requested range unsatisfiable'],
  [417, 'Expectation failed'], [418, "I'm a teapot"], [421, 'Misdirected Request'],
  [422, 'Unprocessable Content'], [423, 'Locked'], [424, 'Method failure'], [425, 'Too Early'],
  [426, 'Upgrade Required'], [428, 'Precondition Required'], [429, 'Too Many Requests'],
  [431, 'Request Header Fields Too Large'], [449, 'Retry With'],
  [450, 'Blocked by Windows Parental Controls'], [451, 'Unavailable For Legal Reasons'],
  [456, 'Unrecoverable Error'], [499, 'client has closed connection'], [500, 'Internal Server Error'],
  [501, 'Not Implemented'], [502, 'Bad Gateway or Proxy Error'], [503, 'Service Unavailable'],
  [504, 'Gateway Time-out'], [505, 'HTTP Version not supported'], [506, 'Variant also negotiate'],
  [507, 'Insufficient storage'], [508, 'Loop detected'], [509, 'Bandwidth Limit Exceeded'],
  [510, 'Not extended'], [511, 'Network authentication required'],
  [520, 'Web server is returning an unknown error'],
]);

const CLASS_REASONS = ['Other', 'Informational', 'Success', 'Redirection', 'Client Error', 'Server Error'];

/** The reason phrase HAProxy writes for `status` in the replies it builds itself. */
export function httpReason(status: number): string {
  const r = REASONS.get(status);
  if (r !== undefined) return r;
  const cls = Math.floor(status / 100);
  return cls >= 1 && cls <= 5 ? CLASS_REASONS[cls]! : 'Other';
}
