// The Age field (RFC 9111 §5.1): `Age = delta-seconds`. Anything else (`7200.0`, `-1`, `1 2`,
// two fields) is ignored, as the RFC says a cache should; a huge value is capped (§1.2.2).
import { deltaSeconds } from './delta-seconds.js';

/** Seconds the upstream says the response has aged, or undefined when the field is absent or invalid. */
export function parseAge(value: string | undefined): number | undefined {
  return value === undefined ? undefined : deltaSeconds(value.trim());
}
