// What `workers: auto` means for a serving service: the cores Node says it may use, less one.
// The one left over is for the kernel's network work (softirq, loopback delivery), the
// coordinating primary and whatever else shares the box; measured for both services on a
// 2-core machine (bench/RESULTS.md), where a second serving process added CPU per request and
// latency but little or no throughput.
import { availableParallelism } from 'node:os';

export function coresLessOne(): number {
  return Math.max(1, availableParallelism() - 1);
}
