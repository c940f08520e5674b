/** Finds the skeleton's elements by `data-testid`; a missing one is a broken index.html, said loudly. */
export function required<T extends Element>(root: ParentNode, testId: string): T {
  const element = root.querySelector<T>(`[data-testid="${testId}"]`);
  if (!element) throw new Error(`index.html lacks [data-testid="${testId}"]`);
  return element;
}
