/** How many pages ``total`` rows fill at ``pageSize`` a page: at least one, the page that says none match. */
export function pageCount(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(total / (pageSize || 1)));
}

/**
 * The last page, when the page shown (``page``, with ``list`` its answer) is empty and past the last page while
 * there are rows to show; otherwise null. Such a page (an old link, or a filtered list whose last page emptied
 * while open) lists nothing and, with one page left, has no pager to leave it by.
 */
export function lastPageInstead(
  page: number,
  list: { items: readonly unknown[]; total: number; page_size?: number },
  defaultPageSize: number,
): number | null {
  if (list.items.length > 0 || list.total <= 0) return null;
  const last = pageCount(list.total, list.page_size || defaultPageSize);
  return page > last ? last : null;
}
