// Placeholder while `meridian origin` is being built (issue 6); replaced in this session.
export async function runOrigin(_args: string[]): Promise<number> {
  process.stderr.write('meridian origin: not built yet\n');
  return 1;
}
