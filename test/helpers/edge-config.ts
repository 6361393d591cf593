// The smallest edge config a test needs: one origin, one PoP (fra), and whatever `edge:` lines
// the test adds. Shared by the in-process edge (test-edge.ts) and the spawned one (spawned-edge.ts).

export const DEFAULT_POPS = `  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [127.0.0.1], edge: "http://127.0.0.1:8080" }`;

/** `edgeYaml`: extra lines inside `edge:` (two-space indented); `pops`: replaces the pops list. */
export function edgeConfig(origin: string, edgeYaml = '', pops = DEFAULT_POPS): string {
  return `edge:\n  origin: "${origin}"\n${edgeYaml}\npops:\n${pops}\n`;
}
