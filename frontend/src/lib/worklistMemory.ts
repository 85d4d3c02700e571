import type { ListCasesQuery } from '../api/types';

/**
 * The worklist page the reader last looked at, kept in the tab's sessionStorage: its address (for "Back to
 * worklist"), its list query (filters, sort, page) and the case ids it showed, in order. The case page steps
 * through these ids for "Previous / Next case" rather than through a list it refetches, because a refetched
 * filtered list ("Unreviewed only", "Claimed by me") drops the case the reader has just reviewed.
 */
export const LAST_WORKLIST_KEY = 'neurotriage.worklist.v2';

/** Rows per worklist page (the case page looks a case up on a page of this size too). */
export const WORKLIST_PAGE_SIZE = 25;

export interface WorklistPosition {
  /** the worklist's address query string, "" or "?triage=urgent&page=2" */
  search: string;
  /** the list query of that page, with its page and page_size */
  query: ListCasesQuery;
  /** the case ids of that page in the order shown; empty until it has loaded */
  ids: number[];
  /** how many cases matched the query when the page was loaded */
  total: number;
}

export function rememberWorklist(position: WorklistPosition): void {
  try {
    sessionStorage.setItem(LAST_WORKLIST_KEY, JSON.stringify(position));
  } catch {
    /* private mode or full storage: "Back to worklist" goes to the default list, neighbours are looked up */
  }
}

function isIdList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isInteger(x));
}

/** The remembered worklist page, or null when there is none (or it cannot be read). */
export function lastWorklist(): WorklistPosition | null {
  try {
    const raw = sessionStorage.getItem(LAST_WORKLIST_KEY);
    if (!raw) return null;
    const p = JSON.parse(raw) as Partial<WorklistPosition>;
    if (!p || typeof p !== 'object' || typeof p.query !== 'object' || p.query === null) return null;
    return {
      search: typeof p.search === 'string' && (p.search === '' || p.search.startsWith('?')) ? p.search : '',
      query: p.query,
      ids: isIdList(p.ids) ? p.ids : [],
      total: typeof p.total === 'number' ? p.total : 0,
    };
  } catch {
    return null;
  }
}

/** Where "Back to worklist" goes: the last worklist address, filters and page included. */
export function worklistAddress(): string {
  return `/${lastWorklist()?.search ?? ''}`;
}

/** The worklist address ``search`` showing ``page`` instead (page 1 is the address without one). */
export function searchWithPage(search: string, page: number): string {
  const p = new URLSearchParams(search);
  if (page > 1) p.set('page', String(page));
  else p.delete('page');
  const s = p.toString();
  return s ? `?${s}` : '';
}
