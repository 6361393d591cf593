// Writes an Answer's sections after the question; shared by the per-query path and the
// load-time templates so both produce identical bytes.
import type { MessageWriter } from '../wire/writer.js';
import type { Answer } from './resolve.js';

export interface SectionCounts {
  ancount: number;
  nscount: number;
  arcount: number;
}

export function writeSections(w: MessageWriter, answer: Answer): SectionCounts {
  return {
    ancount: w.section(answer.answer),
    nscount: w.section(answer.authority),
    arcount: w.section(answer.additional),
  };
}
