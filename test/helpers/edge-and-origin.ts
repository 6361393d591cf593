// The setup most edge test files share: an origin stand-in and an edge in front of it, started
// before the file's tests and stopped after them.
import { afterAll, beforeAll } from 'vitest';
import { startOrigin, type TestOrigin } from './test-origin.js';
import { startTestEdge, type TestEdge, type TestEdgeOptions } from './test-edge.js';
import { sleep } from './wait-for.js';

/**
 * Starts both in beforeAll and hands them to `use` (which keeps them in the file's variables);
 * stops them in afterAll. `options` are the edge's (besides the origin, which is this one).
 */
export function withEdgeAndOrigin(
  use: (origin: TestOrigin, edge: TestEdge) => void,
  options: Omit<TestEdgeOptions, 'origin'> = {},
): void {
  let origin: TestOrigin | undefined;
  let edge: TestEdge | undefined;
  beforeAll(async () => {
    origin = await startOrigin();
    edge = await startTestEdge({ ...options, origin: origin.url });
    use(origin, edge);
  });
  afterAll(async () => {
    await edge?.close();
    await origin?.stop();
  });
}

/** Lets the cache side of a streamed response finish before the next request looks. */
export const settle = (): Promise<void> => sleep(15);
