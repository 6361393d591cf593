// delta-seconds (RFC 9111 §1.2.2): a non-negative integer of seconds. A value larger than a cache
// can hold is taken as 2147483648 (2^31), never overflowed or wrapped.

export const DELTA_SECONDS_MAX = 2_147_483_648;

/** The seconds `text` says, capped at 2^31; undefined unless it is 1*DIGIT. */
export function deltaSeconds(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  text = text.replace(/^0+(?=\d)/, '');
  // Past 10 digits the value is over the cap whatever it is: no need to read it as a number.
  if (text.length > 10) return DELTA_SECONDS_MAX;
  return Math.min(Number(text), DELTA_SECONDS_MAX);
}
