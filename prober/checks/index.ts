// One probe for every check type, chosen by the target's settings.
import type { ProbeSettings } from '../../common/health-contract.js';
import { createHttpCheck } from './http.js';
import { probe as probeDns } from './dns.js';
import { probe as probeTcp } from './tcp.js';
import type { Probe } from './types.js';

export type { Probe, ProbeResult, ProbeTarget } from './types.js';

export interface Checks {
  readonly probe: Probe<ProbeSettings>;
  /** Releases the HTTP connection pools. */
  close(): Promise<void>;
}

export function createChecks(): Checks {
  const http = createHttpCheck();
  return {
    probe(target, settings, signal) {
      const { check } = settings;
      switch (check.type) {
        case 'http':
          return http.probe(target, { ...settings, check }, signal);
        case 'tcp':
          return probeTcp(target, { ...settings, check }, signal);
        case 'dns':
          return probeDns(target, { ...settings, check }, signal);
      }
    },
    close: () => http.close(),
  };
}
