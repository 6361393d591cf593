// Signed requests (RFC 8945). Meridian holds no TSIG keys, so every key is unknown: the answer is
// NOTAUTH with TSIG error BADKEY (§5.2), unsigned (§5.3.2), and the question is not answered.
import { Rcode, TsigError } from '../wire/constants.js';
import type { TsigRequest } from '../wire/tsig.js';
import type { ErrorResponse } from './types.js';

export function answerSigned(request: TsigRequest): ErrorResponse {
  return { kind: 'error', rcode: Rcode.NOTAUTH, tsig: { request, error: TsigError.BADKEY } };
}
