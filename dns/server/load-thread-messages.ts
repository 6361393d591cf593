// What load-serving.ts and its worker thread (load-thread-main.ts) say to each other.
import type { ZoneData } from '../zone/zone-handover.js';

/** The job, as workerData. */
export interface ToLoadThread {
  readonly file: string;
  readonly pop?: string | undefined;
}

export type FromLoadThread =
  | { readonly ok: true; readonly zones: ZoneData[]; readonly recordCount: number }
  | { readonly ok: false; readonly name: string; readonly message: string };
