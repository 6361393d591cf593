// Old spellings of flags and config keys keep working for a while; each one used says what to
// write instead, as one stderr line. Config loaders only collect them (a loader runs in every
// worker and on every reload); the process that starts the service says them once.

export interface Deprecation {
  /** As the user wrote it: '--http', 'dns.http'. */
  readonly old: string;
  readonly replacement: string;
}

export function deprecationLine(d: Deprecation): string {
  return `meridian: ${d.old} is deprecated; use ${d.replacement}\n`;
}

export function sayDeprecated(
  ds: readonly Deprecation[],
  write: (text: string) => void = (t) => void process.stderr.write(t),
): void {
  for (const d of ds) write(deprecationLine(d));
}
