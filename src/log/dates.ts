// Date renderings used in log lines and syslog headers, byte for byte as HAProxy prints them.
// Local time follows the process time zone (TZ). Each rendering caches the part that only
// changes once a second, because a busy proxy formats many lines within the same second.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? '0' + n : '' + n;
}

function pad3(n: number): string {
  return n < 10 ? '00' + n : n < 100 ? '0' + n : '' + n;
}

function pad4(n: number): string {
  return n < 10 ? '000' + n : n < 100 ? '00' + n : n < 1000 ? '0' + n : '' + n;
}

function pad6(n: number): string {
  const s = '' + n;
  return s.length >= 6 ? s : '000000'.slice(s.length) + s;
}

/** Local offset from UTC at `d` as "+HHMM" / "-HHMM" (with `colon`, "+HH:MM"). */
function gmtOffset(d: Date, colon: boolean): string {
  let off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  return sign + pad2(Math.floor(off / 60)) + (colon ? ':' : '') + pad2(off % 60);
}

/** "dd/Mon/yyyy:HH:MM:SS" of `d` in local time (utc = false) or UTC. */
function clfBase(d: Date, utc: boolean): string {
  return utc
    ? pad2(d.getUTCDate()) + '/' + MONTHS[d.getUTCMonth()] + '/' + pad4(d.getUTCFullYear()) + ':' +
        pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()) + ':' + pad2(d.getUTCSeconds())
    : pad2(d.getDate()) + '/' + MONTHS[d.getMonth()] + '/' + pad4(d.getFullYear()) + ':' +
        pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
}

/** A one-entry cache of a rendering that depends only on the second. */
class SecondCache {
  private sec = NaN;
  private value = '';
  constructor(private readonly render: (d: Date) => string) {}
  get(sec: number): string {
    if (sec !== this.sec) {
      this.value = this.render(new Date(sec * 1000));
      this.sec = sec;
    }
    return this.value;
  }
}

const localBase = new SecondCache((d) => clfBase(d, false));
const gmtFull = new SecondCache((d) => clfBase(d, true) + ' +0000');
const localFull = new SecondCache((d) => clfBase(d, false) + ' ' + gmtOffset(d, false));
const legacyTime = new SecondCache(
  (d) =>
    MONTHS[d.getMonth()] + ' ' + (d.getDate() < 10 ? ' ' : '') + d.getDate() + ' ' +
    pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds()),
);
const isoBase = new SecondCache(
  (d) =>
    pad4(d.getFullYear()) + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + 'T' +
    pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds()),
);
const isoOffset = new SecondCache((d) => gmtOffset(d, true));

/** %t / %tr: "06/Feb/2009:12:14:14.655", local time with milliseconds. */
export function formatDateMs(ms: number): string {
  const sec = Math.floor(ms / 1000);
  return localBase.get(sec) + '.' + pad3(Math.floor(ms - sec * 1000));
}

/** %T / %trg: "06/Feb/2009:11:14:14 +0000", UTC. */
export function formatDateGmt(ms: number): string {
  return gmtFull.get(Math.floor(ms / 1000));
}

/** %Tl / %trl: "06/Feb/2009:12:14:14 +0100", local time with its offset. */
export function formatDateLocal(ms: number): string {
  return localFull.get(Math.floor(ms / 1000));
}

/** %ms: the milliseconds of a date, three digits. */
export function formatMillis(ms: number): string {
  return pad3(Math.floor(ms - Math.floor(ms / 1000) * 1000));
}

/** RFC 3164 timestamp "Feb  6 12:14:14" (local time, day padded with a space). */
export function formatLegacyTime(ms: number): string {
  return legacyTime.get(Math.floor(ms / 1000));
}

/**
 * RFC 5424 / ISO 8601 timestamp with microseconds and local offset:
 * "2009-02-06T12:14:14.655123+01:00". Sub-millisecond digits come from the fraction of `ms`.
 */
export function formatIsoTime(ms: number): string {
  const sec = Math.floor(ms / 1000);
  // Rounding, not truncating: a clock value such as x.456 ms is x.4559999... in binary.
  const us = Math.min(999999, Math.round((ms - sec * 1000) * 1000));
  return isoBase.get(sec) + '.' + pad6(us) + isoOffset.get(sec);
}
