// Placeholder while `meridian query` is being built (issue 6); replaced in this session.
export async function runQuery(_args: string[]): Promise<number> {
  process.stderr.write('meridian query: not built yet\n');
  return 1;
}
