import { Rng } from './rng.ts';

export interface Split {
  train: number[];
  validation: number[];
}

/**
 * Stratified, grouped split: within each class, whole groups (near-duplicates of one photo)
 * go to validation until it holds about `fraction` of that class's images, so no photo has
 * copies on both sides and every class is represented. At least one group per class stays
 * in training and, when the class has two or more groups, one goes to validation.
 */
export function groupedSplit(labels: number[], groups: number[], fraction: number, seed: number): Split {
  const rng = new Rng(seed);
  const byClass = new Map<number, Map<number, number[]>>();
  labels.forEach((label, i) => {
    const classGroups = byClass.get(label) ?? byClass.set(label, new Map()).get(label)!;
    (classGroups.get(groups[i]) ?? classGroups.set(groups[i], []).get(groups[i])!).push(i);
  });
  const train: number[] = [];
  const validation: number[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const classGroups = [...byClass.get(label)!.values()];
    rng.shuffle(classGroups);
    const total = classGroups.reduce((n, g) => n + g.length, 0);
    let taken = 0;
    classGroups.forEach((members, k) => {
      const isLast = k === classGroups.length - 1;
      const wantMore = taken < fraction * total;
      if (!isLast && (wantMore || (k === 0 && classGroups.length > 1))) {
        validation.push(...members);
        taken += members.length;
      } else {
        train.push(...members);
      }
    });
  }
  return { train: train.sort((a, b) => a - b), validation: validation.sort((a, b) => a - b) };
}

/**
 * Stratified, grouped k-fold assignment: within each class, whole groups go to the fold that
 * holds the fewest of that class's images so far (largest groups first, ties by seed), so
 * folds are balanced per class and no photo has copies in two folds. Returns a fold per image.
 */
export function groupedFolds(labels: number[], groups: number[], folds: number, seed: number): number[] {
  const rng = new Rng(seed);
  const members = new Map<number, number[]>();
  groups.forEach((g, i) => (members.get(g) ?? members.set(g, []).get(g)!).push(i));
  const fold = new Array<number>(labels.length).fill(0);
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  for (const label of classes) {
    const classGroups = rng.shuffle([...members.values()].filter((m) => labels[m[0]] === label));
    classGroups.sort((a, b) => b.length - a.length);
    const load = new Array<number>(folds).fill(0);
    const order = rng.shuffle([...Array(folds).keys()]);
    for (const group of classGroups) {
      const target = order.reduce((best, f) => (load[f] < load[best] ? f : best), order[0]);
      load[target] += group.length;
      for (const i of group) fold[i] = target;
    }
  }
  return fold;
}
