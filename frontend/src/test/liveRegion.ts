/** Records the changes made under `node`: a screen reader announces a live region when its content changes. */
export function watchChanges(node: Node): MutationRecord[] {
  const seen: MutationRecord[] = [];
  new MutationObserver((records) => seen.push(...records)).observe(node, {
    childList: true,
    subtree: true,
    characterData: true,
  });
  return seen;
}
