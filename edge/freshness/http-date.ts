// HTTP-date (RFC 9110 §5.6.7), read exactly: IMF-fixdate, and the obsolete RFC 850 and asctime
// forms a recipient must still accept; nothing else. JavaScript's Date.parse accepts far more
// (`UTC` for `GMT`, a missing comma, double spaces, dashes in an IMF date, a one-digit hour),
// and each of those would let a broken Expires pass for a date decades ahead.
//
//   IMF-fixdate  = day-name "," SP 2DIGIT SP month SP 4DIGIT SP time-of-day SP "GMT"
//   rfc850-date  = day-name-l "," SP 2DIGIT "-" month "-" 2DIGIT SP time-of-day SP "GMT"
//   asctime-date = day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time-of-day SP 4DIGIT
//   time-of-day  = 2DIGIT ":" 2DIGIT ":" 2DIGIT
// Names are case-sensitive (%s). The day name is not checked against the date: the RFC asks
// recipients to read the date, not to judge the weekday.

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const DAY_L = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

const IMF = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850 = new RegExp(`^${DAY_L}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^${DAY} ${MONTH} (\\d{2}| \\d) ${TIME} (\\d{4})$`);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const YEAR_MS = 50 * 365.2425 * 86_400_000;

/**
 * The instant (ms since the epoch) an HTTP-date names, or undefined when `value` is not one.
 * `now` (ms) places an RFC 850 two-digit year: one more than 50 years ahead is in the past
 * century (RFC 9110 §5.6.7).
 */
export function parseHttpDate(value: string, now: number): number | undefined {
  const text = value.trim();
  let m = IMF.exec(text);
  if (m) return instant(+m[3]!, m[2]!, +m[1]!, m[4]!, m[5]!, m[6]!);
  m = ASCTIME.exec(text);
  if (m) return instant(+m[6]!, m[1]!, +m[2]!.trim(), m[3]!, m[4]!, m[5]!);
  m = RFC850.exec(text);
  if (!m) return undefined;
  // The candidate in this century, moved a century back when more than 50 years ahead (and
  // forward when more than 50 years behind, so the window follows the clock).
  const century = new Date(now).getUTCFullYear() - (new Date(now).getUTCFullYear() % 100);
  const at = (year: number) => instant(year, m![2]!, +m![1]!, m![4]!, m![5]!, m![6]!);
  const candidate = at(century + +m[3]!);
  if (candidate === undefined) return undefined;
  if (candidate - now > YEAR_MS) return at(century + +m[3]! - 100);
  if (now - candidate > YEAR_MS) return at(century + +m[3]! + 100);
  return candidate;
}

function instant(year: number, month: string, day: number, h: string, min: string, s: string): number | undefined {
  const mon = MONTHS.indexOf(month);
  const hour = +h;
  const minute = +min;
  // 60 is a leap second (RFC 9110 §5.6.7 lets second be 60).
  const second = +s;
  if (hour > 23 || minute > 59 || second > 60 || day < 1) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(year, mon, day);
  if (d.getUTCMonth() !== mon) return undefined; // 31 Feb and the like
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/** `ms` as an IMF-fixdate; instants before 1970 are written as the epoch (see view.ts). */
export function formatHttpDate(ms: number): string {
  return new Date(Math.max(0, ms)).toUTCString();
}
