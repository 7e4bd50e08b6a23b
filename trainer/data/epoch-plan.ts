import { Rng } from './rng.ts';

interface EpochPlanOptions {
  /**
   * Images drawn per class each epoch, spread evenly over the class's source groups; 0 uses
   * every image once. Copies of one photo teach little after the first few, so drawing a few
   * per source each epoch (different ones each time) trains faster and weighs every source photo
   * alike, whichever class has more copies or more sources.
   */
  perClass: number;
}

/**
 * The order of training examples for one epoch: all of them shuffled, or a class- and
 * source-balanced draw of `perClass` per class. Deterministic given the generator.
 */
export function epochOrder(labels: number[], groups: number[], options: EpochPlanOptions, rng: Rng): number[] {
  if (!options.perClass) return rng.shuffle(labels.map((_, i) => i));
  const byClass = new Map<number, Map<number, number[]>>();
  labels.forEach((label, i) => {
    const classGroups = byClass.get(label) ?? new Map<number, number[]>();
    byClass.set(label, classGroups);
    const members = classGroups.get(groups[i]) ?? [];
    classGroups.set(groups[i], members);
    members.push(i);
  });
  const order: number[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const pools = [...byClass.get(label)!.entries()].sort((a, b) => a[0] - b[0]).map(([, members]) => rng.shuffle([...members]));
    const cursor = pools.map(() => 0);
    rng.shuffle(pools);
    // Round-robin over the class's sources; a source whose copies ran out starts over (reshuffled).
    for (let drawn = 0, p = 0; drawn < options.perClass; drawn++, p = (p + 1) % pools.length) {
      if (cursor[p] === pools[p].length) {
        rng.shuffle(pools[p]);
        cursor[p] = 0;
      }
      order.push(pools[p][cursor[p]++]);
    }
  }
  return rng.shuffle(order);
}

/**
 * Learning rate of an epoch under cosine decay with a short linear warm-up: large steps while
 * the weights are far off, small ones when early stopping is about to pick the best epoch.
 */
export function cosineLearningRate(base: number, epoch: number, epochs: number, warmup = 1): number {
  if (epoch <= warmup) return (base * epoch) / (warmup + 1);
  const t = (epoch - warmup - 1) / Math.max(1, epochs - warmup - 1);
  return base * (0.02 + 0.98 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, t))));
}
