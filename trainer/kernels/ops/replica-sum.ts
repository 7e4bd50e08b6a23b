/**
 * Sums float64 values over every replica of a data-parallel training step, in place and in replica
 * order, so every replica gets bitwise the same totals. Batch norm calls it for its batch statistics;
 * null (the default) means a single replica, where the local values are the totals.
 */
type ReplicaSum = (values: Float64Array) => void;

let current: ReplicaSum | null = null;

export function setReplicaSum(sum: ReplicaSum | null): void {
  current = sum;
}

/** Totals over all replicas: `values` summed in place (unchanged with a single replica). */
export function sumOverReplicas(values: Float64Array): Float64Array {
  current?.(values);
  return values;
}
