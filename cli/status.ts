// Placeholder while `meridian status` is being built (issue 6); replaced in this session.
export async function runStatus(_args: string[]): Promise<number> {
  process.stderr.write('meridian status: not built yet\n');
  return 1;
}
