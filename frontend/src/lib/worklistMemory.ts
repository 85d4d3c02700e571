import type { ListCasesQuery } from '../api/types';

/** The case page's "next / previous case" follows the worklist as last filtered and sorted. */
export const LAST_QUERY_KEY = 'neurotriage.worklist.query';

export function rememberWorklistQuery(queryJson: string): void {
  try {
    sessionStorage.setItem(LAST_QUERY_KEY, queryJson);
  } catch {
    /* private mode: neighbours fall back to the default order */
  }
}

export function lastWorklistQuery(): ListCasesQuery {
  try {
    const raw = sessionStorage.getItem(LAST_QUERY_KEY);
    const q = raw ? (JSON.parse(raw) as ListCasesQuery) : {};
    return { ...q, page: 1, page_size: 100 };
  } catch {
    return { page: 1, page_size: 100 };
  }
}
