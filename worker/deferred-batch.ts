/** A request's handle on the work it may leave running after its response. */
export type WaitUntil = Pick<ExecutionContext, 'waitUntil'>;

/**
 * Collects items from the requests that finish within `delayMs` of each other and hands them
 * to `write` in one call per key, after the responses: one D1 batch per burst instead of a
 * write per request, so a busy isolate spends its time answering. Every request's `waitUntil`
 * holds the write that carries its items, so none is dropped when the isolate is done with it.
 * Keys keep apart what must not mix (the bindings of different environments, in tests).
 *
 * @example
 * const record = deferredBatch(20, (db: D1Database, rows: Row[]) => insertAll(db, rows));
 * record(c.executionCtx, c.env.DB, row);
 */
export function deferredBatch<K, T>(delayMs: number, write: (key: K, items: T[]) => Promise<void>) {
  const open = new Map<K, { items: T[]; written: Promise<void> }>();
  // A batch leaves `open` when its write starts; until the write ends it is still unsettled, and
  // a write can be long (the shadow version runs inside it).
  // Keys are few (one per set of bindings), so their sets are kept.
  const unsettled = new Map<K, Set<Promise<void>>>();
  const track = (key: K, written: Promise<void>) => {
    const writes = unsettled.get(key) ?? new Set();
    unsettled.set(key, writes.add(written));
    const done = () => void writes.delete(written);
    written.then(done, done);
  };
  const flush = async (key: K) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const batch = open.get(key)!;
    open.delete(key);
    await write(key, batch.items);
  };
  const add = (ctx: WaitUntil, key: K, item: T): void => {
    let batch = open.get(key);
    if (!batch) {
      batch = { items: [], written: Promise.resolve() };
      open.set(key, batch);
      batch.written = flush(key);
      track(key, batch.written);
    }
    batch.items.push(item);
    ctx.waitUntil(batch.written);
  };
  /** Resolves once what this isolate gathered for `key` so far is written, or failed to be (read-your-writes). */
  const settled = async (key: K): Promise<void> => {
    await Promise.all([...(unsettled.get(key) ?? [])].map((written) => written.catch(() => undefined)));
  };
  return Object.assign(add, { settled });
}
