// One PoP's edge as `meridian status` shows it: its own /healthz (state and cache figures), or
// why it could not be read. Never throws: an edge that is down is a row, not a failure.
import { z } from 'zod';
import { getJson } from './http.js';

export interface EdgeView {
  readonly url: string;
  /** serving | draining | origin-down (the edge's own words), unreachable, or invalid. */
  readonly state: string;
  /** Share of cacheable requests answered from storage since the edge started (0–1). */
  readonly hitRatio: number | null;
  readonly objects: number | null;
  readonly bytes: number | null;
  readonly error: string | null;
}

// What edge/service.ts healthz() answers; 503 (draining, origin down) carries the same body.
const healthzSchema = z.object({
  state: z.string(),
  pop: z.string(),
  objects: z.number(),
  bytes: z.number(),
  hitRatio: z.number(),
});

export async function probeEdge(pop: string, url: string, timeoutMs: number): Promise<EdgeView> {
  const none = { hitRatio: null, objects: null, bytes: null };
  let answer;
  try {
    answer = await getJson(new URL('/healthz', url), timeoutMs);
  } catch (e) {
    return { url, state: 'unreachable', ...none, error: (e as Error).message };
  }
  const parsed = healthzSchema.safeParse(answer.body);
  if (!parsed.success)
    return {
      url,
      state: 'invalid',
      ...none,
      error: `HTTP ${answer.status} from /healthz is not a Meridian edge's answer`,
    };
  const h = parsed.data;
  // A wrong URL in the topology (two PoPs pointing at one edge) would otherwise show another
  // PoP's figures under this one's name.
  if (h.pop !== pop)
    return { url, state: 'invalid', ...none, error: `this is the edge of PoP '${h.pop}', not '${pop}'` };
  return { url, state: h.state, hitRatio: h.hitRatio, objects: h.objects, bytes: h.bytes, error: null };
}
