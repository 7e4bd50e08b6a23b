/**
 * Groups by a regular expression on file names: images whose first capture group (or
 * whole match) is equal share a group within their class. Only for datasets whose names
 * really carry the source photo; content grouping is the default.
 */
export function groupByPattern(paths: string[], labels: number[], pattern: RegExp): number[] {
  return compactIds(
    paths.map((p, i) => {
      const name = p.slice(p.lastIndexOf('/') + 1);
      const m = pattern.exec(name);
      return `${labels[i]}:${m ? (m[1] ?? m[0]) : name}`;
    }),
  );
}

/** Renumbers arbitrary keys 0, 1, 2, ... in order of first appearance. */
export function compactIds<T>(keys: T[]): number[] {
  const ids = new Map<T, number>();
  return keys.map((k) => {
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = ids.size));
    return id;
  });
}
