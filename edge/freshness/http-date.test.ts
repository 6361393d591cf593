import { describe, expect, it } from 'vitest';
import { formatHttpDate, parseHttpDate } from './http-date.js';

const now = Date.UTC(2026, 11, 7);
const at = Date.UTC(1994, 10, 6, 8, 49, 37);

describe('HTTP-date (RFC 9110 §5.6.7)', () => {
  it.each([
    ['IMF-fixdate', 'Sun, 06 Nov 1994 08:49:37 GMT'],
    ['RFC 850', 'Sunday, 06-Nov-94 08:49:37 GMT'],
    ['asctime, one-digit day', 'Sun Nov  6 08:49:37 1994'],
    ['asctime, two-digit day', 'Sun Nov 06 08:49:37 1994'],
  ])('reads the %s form', (_, value) => expect(parseHttpDate(value, now)).toBe(at));

  it.each([
    ['UTC for GMT', 'Sun, 06 Nov 1994 08:49:37 UTC'],
    ['no comma', 'Sun 06 Nov 1994 08:49:37 GMT'],
    ['double space', 'Sun, 06 Nov 1994  08:49:37 GMT'],
    ['dashes in an IMF date', 'Sun, 06-Nov-1994 08:49:37 GMT'],
    ['one-digit hour', 'Sun, 06 Nov 1994 8:49:37 GMT'],
    ['one-digit day in an IMF date', 'Sun, 6 Nov 1994 08:49:37 GMT'],
    ['lower-case names', 'sun, 06 nov 1994 08:49:37 gmt'],
    ['a long day name in an IMF date', 'Sunday, 06 Nov 1994 08:49:37 GMT'],
    ['a two-digit year in an IMF date', 'Sun, 06 Nov 94 08:49:37 GMT'],
    ['hour 24', 'Sun, 06 Nov 1994 24:00:00 GMT'],
    ['31 February', 'Tue, 31 Feb 1994 08:49:37 GMT'],
    ['a number', '0'],
    ['ISO 8601', '1994-11-06T08:49:37Z'],
    ['an offset', 'Sun, 06 Nov 1994 08:49:37 +0000'],
  ])('refuses %s', (_, value) => expect(parseHttpDate(value, now)).toBeUndefined());

  it('takes second 60 (a leap second)', () => {
    expect(parseHttpDate('Sat, 31 Dec 2016 23:59:60 GMT', now)).toBe(Date.UTC(2017, 0, 1));
  });

  it('puts an RFC 850 year more than 50 years ahead in the past century, following the clock', () => {
    expect(parseHttpDate('Thursday, 18-Aug-50 02:01:18 GMT', now)).toBe(Date.UTC(2050, 7, 18, 2, 1, 18));
    expect(parseHttpDate('Wednesday, 18-Aug-77 02:01:18 GMT', now)).toBe(Date.UTC(1977, 7, 18, 2, 1, 18));
    expect(parseHttpDate('Monday, 18-Aug-01 02:01:18 GMT', Date.UTC(2090, 0, 1))).toBe(Date.UTC(2101, 7, 18, 2, 1, 18));
  });

  it('writes IMF-fixdate, and the epoch for anything earlier', () => {
    expect(formatHttpDate(at)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(formatHttpDate(-1)).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
  });
});
