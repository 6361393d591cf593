// Go-style globs as Docker reads them (.dockerignore, COPY sources), also fine for tsconfig's
// include/exclude patterns: `*` and `?` within a path segment, `**` across directories.

/** Go-style glob (`*`, `?`, and `**` across directories) → RegExp over a whole relative path. */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
