// What load-serving.ts and its worker thread (load-thread-main.ts) say to each other.
import type { ZoneData } from '../zone/zone-handover.js';

/** The job, as workerData. */
export interface ToLoadThread {
  readonly file: string;
  readonly pop?: string | undefined;
}

/** In order: the file as read (`read`), then its zones compiled (`compiled`); or `failed` at any point. */
export type FromLoadThread =
  | { readonly kind: 'read'; readonly raw: unknown }
  | {
      readonly kind: 'compiled';
      readonly zones: ZoneData[];
      readonly recordCount: number;
      /** The routed names answered by their own name (answer/templates.ts routeIndexKeys). */
      readonly routeKeys: string[];
    }
  | { readonly kind: 'failed'; readonly name: string; readonly message: string };
