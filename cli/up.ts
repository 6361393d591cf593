// Placeholder while `meridian up` is being built (issue 6); replaced in this session.
export async function runUp(_args: string[]): Promise<number> {
  process.stderr.write('meridian up: not built yet\n');
  return 1;
}
