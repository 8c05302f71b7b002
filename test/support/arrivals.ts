// What the local test services (push service, webhook receiver) have received, and waiting for it.

/** Arrivals of one kind, and those waiting for a condition on them. */
export function arrivals<T>(describe: (items: readonly T[]) => string) {
  const items: T[] = [];
  const waiters = new Set<() => void>();
  return {
    items,
    add(item: T): void {
      items.push(item);
      for (const wake of [...waiters]) wake();
    },
    /** Resolves with every arrival once `predicate` holds; rejects, saying what came, at the deadline. */
    waitFor(predicate: (items: T[]) => boolean, timeoutMs: number): Promise<T[]> {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!predicate([...items])) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve([...items]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`condition not met within ${timeoutMs} ms; ${describe(items)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
