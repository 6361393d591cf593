// HTTP check: GET <edge><path> and expect a status (and optionally a body pattern). Each probe
// opens a fresh connection (keep-alive off): a pooled socket would hide a dead listener or a
// full accept queue until the pool noticed, and the connect is part of what we measure.
import { Agent, request } from 'undici';
import { describeError } from '../../common/describe-error.js';
import { readHead } from '../../common/read-head.js';
import type { ProbeResult, ProbeTarget, SettingsFor } from './types.js';
import { elapsedMs, failed, passed, probeSignal } from './types.js';

/** Only the start of the body is matched: health pages are small and a huge one must not cost memory. */
export const BODY_MATCH_LIMIT = 64 * 1024;

const USER_AGENT = 'meridian-health';

export interface HttpCheck {
  probe(target: ProbeTarget, settings: SettingsFor<'http'>, signal?: AbortSignal): Promise<ProbeResult>;
  close(): Promise<void>;
}

export function createHttpCheck(): HttpCheck {
  // One Agent per timeout value (a handful at most): undici's connect timeout is per Agent.
  const agents = new Map<number, Agent>();
  const agentFor = (timeout: number): Agent => {
    let agent = agents.get(timeout);
    if (!agent) {
      agent = new Agent({ connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout, pipelining: 0 });
      agents.set(timeout, agent);
    }
    return agent;
  };

  return {
    probe(target, settings, signal) {
      // undici's connect timeout fires on a coarse timer (up to a timeout late) and an abort does
      // not end a connect in progress, so the probe keeps its own deadline: a silent edge fails
      // at `timeout`, and the abandoned attempt is cleaned up by its own signal later.
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<ProbeResult>((resolve) => {
        timer = setTimeout(
          () => resolve(failed(elapsedMs(started), `timeout after ${settings.timeout} ms`)),
          settings.timeout,
        );
      });
      return Promise.race([attempt(target, settings, started, signal), deadline]).finally(() => clearTimeout(timer));
    },
    async close() {
      await Promise.all([...agents.values()].map((a) => a.close()));
      agents.clear();
    },
  };

  async function attempt(
    target: ProbeTarget,
    settings: SettingsFor<'http'>,
    started: number,
    signal?: AbortSignal,
  ): Promise<ProbeResult> {
    const { check, timeout } = settings;
    const url = check.url ?? target.edge.href.replace(/\/$/, '') + check.path;
    try {
      const res = await request(url, {
        method: 'GET',
        dispatcher: agentFor(timeout),
        headers: { 'user-agent': USER_AGENT, ...(check.host !== undefined && { host: check.host }) },
        signal: probeSignal(timeout, signal),
      });
      // Time to the response head: the body's size is the edge's business, not latency.
      const rttMs = elapsedMs(started);
      if (res.statusCode !== check.expectStatus) {
        await res.body.dump({ limit: BODY_MATCH_LIMIT });
        return failed(rttMs, `HTTP ${res.statusCode} (expected ${check.expectStatus})`);
      }
      if (check.bodyMatch === undefined) {
        await res.body.dump({ limit: BODY_MATCH_LIMIT });
        return passed(rttMs);
      }
      const head = await readHead(res.body, BODY_MATCH_LIMIT);
      return new RegExp(check.bodyMatch).test(head)
        ? passed(rttMs)
        : failed(rttMs, `body does not match /${check.bodyMatch}/`);
    } catch (err) {
      return failed(elapsedMs(started), describeError(err, timeout));
    }
  }
}
