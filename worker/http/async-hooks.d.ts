// workerd's AsyncLocalStorage under the `nodejs_als` flag; the Worker has no @types/node.
declare module 'node:async_hooks' {
  export class AsyncLocalStorage<T> {
    getStore(): T | undefined;
    run<R>(store: T, callback: () => R): R;
  }
}
