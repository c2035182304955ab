// Where each sample fetch may be used (HAProxy's sample capabilities). A fetch declares the data
// it reads (its sources, SMP_USE_*); a place that evaluates samples (a rule list, a log format, a
// check...) is a set of checkpoints (SMP_VAL_*). A fetch is usable at a place when one of its
// sources is available at one of the place's checkpoints. The configuration refuses unusable
// fetches in log-format strings and sample expressions and warns about conditions whose ACLs
// cannot match; at run time a fetch of HTTP message data at a place where that message is not
// there finds nothing (decided when the condition is compiled).

/** Data sources of fetches (SMP_USE_*), in HAProxy's order: messages list them in it. */
export const enum Use {
  Const = 1 << 0,
  Intrn = 1 << 1,
  Listn = 1 << 2,
  Ftend = 1 << 3,
  L4cli = 1 << 4,
  L5cli = 1 << 5,
  Track = 1 << 6,
  L6req = 1 << 7,
  Hrqhv = 1 << 8,
  Hrqhp = 1 << 9,
  Hrqbo = 1 << 10,
  Bkend = 1 << 11,
  Servr = 1 << 12,
  L4srv = 1 << 13,
  L5srv = 1 << 14,
  L6res = 1 << 15,
  Hrshv = 1 << 16,
  Hrshp = 1 << 17,
  Hrsbo = 1 << 18,
  Rqfin = 1 << 19,
  Rsfin = 1 << 20,
  Txfin = 1 << 21,
  Ssfin = 1 << 22,
  /** Anything read from an HTTP message. */
  HttpAny = Hrqhv | Hrqhp | Hrqbo | Hrshv | Hrshp | Hrsbo,
}

/** Checkpoints where samples are evaluated (SMP_VAL_*); a place is a set of them. */
export const enum Place {
  FeConAcc = 1 << 0,
  FeSesAcc = 1 << 1,
  FeReqCnt = 1 << 2,
  FeHrqHdr = 1 << 3,
  FeHrqBdy = 1 << 4,
  FeSetBck = 1 << 5,
  BeReqCnt = 1 << 6,
  BeHrqHdr = 1 << 7,
  BeHrqBdy = 1 << 8,
  BeSetSrv = 1 << 9,
  BeSrvCon = 1 << 10,
  BeResCnt = 1 << 11,
  BeHrsHdr = 1 << 12,
  BeHrsBdy = 1 << 13,
  BeStoRul = 1 << 14,
  FeResCnt = 1 << 15,
  FeHrsHdr = 1 << 16,
  FeHrsBdy = 1 << 17,
  FeLogEnd = 1 << 18,
  BeChkRul = 1 << 19,
  CfgParser = 1 << 20,
  CliParser = 1 << 21,
  /** Checkpoints that see the request; a log-format item there is evaluated on the request. */
  Request = FeConAcc | FeSesAcc | FeReqCnt | FeHrqHdr | FeHrqBdy | FeSetBck | BeReqCnt | BeHrqHdr | BeHrqBdy | BeSetSrv | BeChkRul,
  /** Checkpoints that see the response. */
  Response = BeSrvCon | BeResCnt | BeHrsHdr | BeHrsBdy | BeStoRul | FeResCnt | FeHrsHdr | FeHrsBdy | FeLogEnd | BeChkRul,
}

/** Checkpoints `from` to `to` inclusive, in the order of Place. */
function span(from: Place, to: Place): number {
  return (to << 1) - from;
}

const LOG = Place.FeLogEnd;
const CHK = Place.BeChkRul;
const CLIENT_SIDE = span(Place.FeConAcc, Place.FeLogEnd);
const REQUEST_SIDE = span(Place.FeReqCnt, Place.BeSrvCon);
const RESPONSE_SIDE = span(Place.BeResCnt, Place.FeHrsBdy);

/** Where each source is available, by source bit (HAProxy's fetch_cap). */
const SOURCE_PLACES: readonly number[] = [
  /* Const */ span(Place.FeConAcc, Place.CliParser),
  /* Intrn */ span(Place.FeConAcc, Place.BeChkRul) | Place.CliParser,
  /* Listn */ CLIENT_SIDE,
  /* Ftend */ CLIENT_SIDE,
  /* L4cli */ CLIENT_SIDE | CHK,
  /* L5cli */ span(Place.FeSesAcc, Place.FeLogEnd),
  /* Track */ CLIENT_SIDE,
  /* L6req */ REQUEST_SIDE,
  /* Hrqhv */ REQUEST_SIDE,
  /* Hrqhp */ span(Place.FeReqCnt, Place.FeLogEnd),
  /* Hrqbo */ span(Place.FeHrqBdy, Place.BeSrvCon),
  /* Bkend */ span(Place.BeReqCnt, Place.BeChkRul),
  /* Servr */ span(Place.BeSrvCon, Place.BeChkRul),
  /* L4srv */ RESPONSE_SIDE | LOG | CHK,
  /* L5srv */ RESPONSE_SIDE | LOG | CHK,
  /* L6res */ RESPONSE_SIDE | CHK,
  /* Hrshv */ RESPONSE_SIDE | CHK,
  /* Hrshp */ RESPONSE_SIDE | LOG | CHK,
  /* Hrsbo */ span(Place.BeHrsBdy, Place.FeHrsBdy) | CHK,
  /* Rqfin */ LOG,
  /* Rsfin */ LOG,
  /* Txfin */ LOG,
  /* Ssfin */ LOG,
];

/** Source names as HAProxy prints them (sample_src_names); the constant source has none. */
const SOURCE_NAMES: readonly string[] = [
  '',
  'internal state',
  'listener',
  'frontend',
  'client address',
  'client-side connection',
  'track counters',
  'request buffer',
  'HTTP request headers',
  'HTTP request',
  'HTTP request body',
  'backend',
  'server',
  'server address',
  'server-side connection',
  'response buffer',
  'HTTP response headers',
  'HTTP response',
  'HTTP response body',
  'request buffer statistics',
  'response buffer statistics',
  'transaction statistics',
  'session statistics',
];

/** Checkpoint names as HAProxy prints them (sample_ckp_names). */
const PLACE_NAMES: readonly string[] = [
  'frontend tcp-request connection rule',
  'frontend tcp-request session rule',
  'frontend tcp-request content rule',
  'frontend http-request header rule',
  'frontend http-request body rule',
  'frontend use-backend rule',
  'backend tcp-request content rule',
  'backend http-request header rule',
  'backend http-request body rule',
  'backend use-server, balance or stick-match rule',
  'server source selection',
  'backend tcp-response content rule',
  'backend http-response header rule',
  'backend http-response body rule',
  'backend stick-store rule',
  'frontend tcp-response content rule',
  'frontend http-response header rule',
  'frontend http-response body rule',
  'logs',
  'backend tcp-check rule',
  'configuration parser',
  'CLI parser',
];

/** The checkpoints where a fetch with these sources is usable (HAProxy's fetch `val`). */
export function placesOf(use: number): number {
  let val = 0;
  for (let bit = 0; bit < SOURCE_PLACES.length; bit++) if (use & (1 << bit)) val |= SOURCE_PLACES[bit]!;
  return val;
}

/** A fetch with these sources may be used at `where` (one checkpoint in common is enough). */
export function usableAt(use: number, where: number): boolean {
  return (placesOf(use) & where) !== 0;
}

/**
 * The fetch finds nothing at `where`: it reads an HTTP message that is not there (the request
 * once it was forwarded, the response before it arrived). Fetches of other sources used out of
 * place may still find something (be_name before a backend is chosen names the frontend), so
 * only message data is settled here.
 */
export function findsNothingAt(use: number, where: number): boolean {
  return !usableAt(use, where) && (use & ~Use.HttpAny) === 0;
}

/** Comma-separated names of the sources (HAProxy's sample_src_names). */
export function sourceNames(use: number): string {
  const names: string[] = [];
  for (let bit = 0; bit < SOURCE_NAMES.length; bit++) if (use & (1 << bit)) names.push(SOURCE_NAMES[bit]!);
  return names.join(',');
}

/** Name of the first checkpoint of a place (HAProxy's sample_ckp_names). */
export function placeName(where: number): string {
  for (let bit = 0; bit < PLACE_NAMES.length; bit++) if (where & (1 << bit)) return PLACE_NAMES[bit]!;
  return 'unknown sample check place, please report this bug';
}

/**
 * The place of HTTP rules of a proxy with these sides: 'req' for http-request, 'res' for
 * http-response and http-after-response. A defaults section and a listen have both sides.
 */
export function httpRulePlace(dir: 'req' | 'res', frontend: boolean, backend: boolean): number {
  let where = 0;
  if (frontend) where |= dir === 'req' ? Place.FeHrqHdr : Place.FeHrsHdr;
  if (backend) where |= dir === 'req' ? Place.BeHrqHdr : Place.BeHrsHdr;
  return where;
}

const C = Use.Const;
const RQ = Use.Hrqhv;
const RS = Use.Hrshv;

/**
 * The sources of each fetch sluice implements, from HAProxy's fetch keyword tables. A fetch
 * cannot be registered without its entry here (registry.ts registerFetch).
 */
export const FETCH_USE: Readonly<Record<string, number>> = {
  // Constants, environment, time, variables (sample.c, vars.c).
  always_false: C, always_true: C, bin: C, bool: C, date: C, env: C, hostname: C, int: C,
  ipv4: C, ipv6: C, meth: C, rand: C, str: C, var: C,
  // Internal state: other proxies and servers named in arguments (backend.c, frontend.c, payload.c).
  be_conn: Use.Intrn, fe_conn: Use.Intrn, nbsrv: Use.Intrn, srv_is_up: Use.Intrn, wait_end: Use.Intrn,
  be_name: Use.Bkend,
  fe_name: Use.Ftend,
  // Connection (tcp_sample.c, ssl_sample.c).
  src: Use.L4cli, src_port: Use.L4cli, dst: Use.L4cli, dst_port: Use.L4cli,
  ssl_fc: Use.L5cli, ssl_fc_sni: Use.L5cli,
  // Raw request buffer (payload.c).
  'req.len': Use.L6req, req_len: Use.L6req,
  // HTTP request (http_fetch.c); method and req.proto_http stay known after the request left.
  method: Use.Hrqhp, 'req.proto_http': Use.Hrqhp, req_proto_http: Use.Hrqhp,
  base: RQ, baseq: RQ, path: RQ, pathq: RQ, query: RQ, url: RQ, url_param: RQ, urlp: RQ, urlp_val: RQ,
  'req.ver': RQ, req_ver: RQ, 'req.body': RQ, 'req.body_len': RQ, 'req.body_size': RQ,
  cook: RQ, cook_cnt: RQ, cook_val: RQ, 'req.cook': RQ, 'req.cook_cnt': RQ, 'req.cook_val': RQ,
  hdr_cnt: RQ, hdr_ip: RQ, hdr_val: RQ, 'req.hdr': RQ, 'req.hdr_cnt': RQ, 'req.hdr_ip': RQ,
  'req.hdr_val': RQ, 'req.hdr_names': RQ, 'req.fhdr': RQ, 'req.fhdr_cnt': RQ,
  http_auth: RQ, http_auth_bearer: RQ, http_auth_group: RQ, http_auth_pass: RQ, http_auth_type: RQ, http_auth_user: RQ,
  // Either message, following the direction of the rule.
  hdr: RQ | RS, cookie: RQ | RS,
  // HTTP response.
  status: Use.Hrshp,
  'res.ver': RS, resp_ver: RS, 'res.body': RS, 'res.body_len': RS, 'res.body_size': RS,
  scook: RS, scook_cnt: RS, scook_val: RS, 'res.cook': RS, 'res.cook_cnt': RS, 'res.cook_val': RS,
  shdr: RS, shdr_cnt: RS, shdr_ip: RS, shdr_val: RS, 'res.hdr': RS, 'res.hdr_cnt': RS, 'res.hdr_ip': RS,
  'res.hdr_val': RS, 'res.hdr_names': RS, 'res.fhdr': RS, 'res.fhdr_cnt': RS,
};

/** `sample fetch <text> may not be reliably used here...`: a log-format item out of place. */
export function formatScopeMessage(text: string, use: number): string {
  return `sample fetch <${text}> may not be reliably used here because it needs '${sourceNames(use)}' which is not available here`;
}

/** `fetch method '<kw>' extracts information from...`: a rule's sample expression out of place. */
export function exprScopeMessage(kw: string, use: number): string {
  return `fetch method '${kw}' extracts information from '${sourceNames(use)}', none of which is available here`;
}

// The place of the sample expressions being compiled, for compilers that cannot be handed one:
// those the log module and the rule actions call on their own (see atPlace).
let ambientPlace: number | undefined;

/**
 * Runs `fn` with `where` as the place of the sample expressions it compiles without an explicit
 * one (log-format items of a rule, a `use_backend` name...). Compile time only.
 */
export function atPlace<T>(where: number | undefined, fn: () => T): T {
  const prev = ambientPlace;
  ambientPlace = where;
  try {
    return fn();
  } finally {
    ambientPlace = prev;
  }
}

/** The place set by the innermost atPlace, if any. */
export function currentPlace(): number | undefined {
  return ambientPlace;
}

const PARSE_PREFIX = 'failed to parse sample expression <';
const SCOPE_PREFIX = 'sample fetch <';

/**
 * HAProxy quotes a refused `%[...]` item with everything that follows it in the format string
 * ("<path] x=%[query]>"), where the log module quotes the item alone: rewrites `message` (the
 * log module's "failed to parse sample expression <expr> : ...") with the rest of the first of
 * `formats` that holds the item. Other messages are returned as they are.
 */
export function quoteFormatRest(message: string, formats: readonly string[]): string {
  if (!message.startsWith(PARSE_PREFIX)) return message;
  for (let end = message.indexOf('> : '); end >= 0; end = message.indexOf('> : ', end + 1)) {
    const expr = message.slice(PARSE_PREFIX.length, end);
    const rest = restFrom(formats, expr);
    if (rest === null) continue;
    const inner = message.slice(end + 4);
    const scope = `${SCOPE_PREFIX}${expr}> `;
    return inner.startsWith(scope) ? `${SCOPE_PREFIX}${rest}> ${inner.slice(scope.length)}` : `${PARSE_PREFIX}${rest}> : ${inner}`;
  }
  return message;
}

/** The text after the '[' of the item `[expr]` in the first format holding it. */
function restFrom(formats: readonly string[], expr: string): string | null {
  const item = `[${expr}]`;
  for (const f of formats) {
    for (let i = f.indexOf(item); i > 0; i = f.indexOf(item, i + 1)) {
      // Directly after '%', or after flags ("%{+Q}[...]").
      if (f[i - 1] === '%' || f[i - 1] === '}') return f.slice(i + 1);
    }
  }
  return null;
}
