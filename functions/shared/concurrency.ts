/**
 * Runs `task` over `items` with at most `limit` in flight. The first failure stops new tasks from
 * starting; every task already running is awaited, then the failure is thrown.
 */
export async function forEachBounded<T>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  try {
    for await (const item of items) {
      if (failure) break;
      const pending: Promise<void> = task(item)
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => inFlight.delete(pending));
      inFlight.add(pending);
      if (inFlight.size >= limit) await Promise.race(inFlight);
    }
  } finally {
    // Also when the items themselves fail (a lookup page): nothing is left running unobserved.
    await Promise.all(inFlight);
  }
  if (failure) throw failure.error;
}
