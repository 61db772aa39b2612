import picomatch from 'picomatch';

/**
 * Include/exclude globs over a source's relative paths (`/`-separated), rsync-like: a file is taken when
 * it matches an include (no includes = all) and no exclude. `**` crosses directories, `*` does not;
 * dotfiles match only when a pattern names them.
 */
export function pathFilter(include: readonly string[], exclude: readonly string[]): (relativePath: string) => boolean {
  const included = include.length > 0 ? picomatch([...include]) : () => true;
  const excluded = exclude.length > 0 ? picomatch([...exclude]) : () => false;
  return (relativePath) => included(relativePath) && !excluded(relativePath);
}
