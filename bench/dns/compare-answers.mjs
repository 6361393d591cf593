// Before measuring: do Meridian and gdnsd give the same answers? Both are asked the same questions
// with dig; rcode, the AA flag and the answer RRs must match (TTLs and owner-name case ignored),
// so that the rows of the table compare servers doing the same job.
import { answerText, digAnswer } from './dig.mjs';
import { MIXED_KINDS, STATIC_LINES } from './query-files.mjs';

// The names checked against both servers with dig before measuring.
export const CHECK_QUERIES = [
  ...STATIC_LINES,
  ...new Set(MIXED_KINDS.filter(([, k]) => k !== 'NXDOMAIN' && k !== 'wildcard').map(([, , g]) => g())),
  'nxd-check-7f3a.demo.test A',
  'wild-check-7f3a.cdn.demo.test A',
  'wild-check-7f3a.cdn.demo.test AAAA',
];

/** The CHECK_QUERIES on which the two servers' answers differ (TTLs and owner-name case ignored). */
export async function compareAnswers(mPort, gPort) {
  const diffs = [];
  for (const q of CHECK_QUERIES) {
    const [m, g] = await Promise.all([digAnswer(mPort, q), digAnswer(gPort, q)]);
    if (answerText(m) !== answerText(g)) diffs.push({ q, m: answerText(m), g: answerText(g) });
  }
  return diffs;
}
