import { neighbourId } from './keymap';
import { searchWithPage, type WorklistPosition } from './worklistMemory';

/**
 * "Previous / Next case" on the case page: steps through the worklist page the reader came from (a snapshot
 * of its ordered ids, `WorklistPosition`), and only asks the server when the step leaves that page. The
 * snapshot is not refetched in place: a filtered worklist ("Unreviewed only", "Claimed by me") drops the case
 * the reader has just reviewed, which would leave them with no position to step from.
 */

export type Direction = 1 | -1;

/** One page of the worklist query as the server has it now. */
export type PageFetcher = (page: number) => Promise<{ ids: number[]; total: number }>;

export interface Step {
  id: number;
  /** the worklist page the found case is on, to step on from there */
  position: WorklistPosition;
}

/** Whether a step from ``caseId`` may lead somewhere: within the page, or past its edge when the list goes on. */
export function canStep(pos: WorklistPosition | null, caseId: number, delta: Direction): boolean {
  if (!pos) return false;
  const i = pos.ids.indexOf(caseId);
  if (i < 0) return false;
  const j = i + delta;
  if (j >= 0 && j < pos.ids.length) return true;
  const page = pos.query.page ?? 1;
  if (delta < 0) return page > 1;
  return page * (pos.query.page_size ?? pos.ids.length) < pos.total;
}

/** The neighbour within the remembered page, or null at its edge (or when the case is not on it). */
export function stepWithin(pos: WorklistPosition, caseId: number, delta: Direction): number | null {
  return neighbourId(pos.ids, caseId, delta);
}

/**
 * On the same page fetched again: a case that moved onto it from beyond the remembered cases. Going forward,
 * that is the first unseen case after the last remembered one still listed (cases the reader reviewed left a
 * filtered list, and later ones moved up); with none of them left, the whole page moved up from later pages.
 * Going back, the last unseen case before the first remembered one still listed.
 */
export function unseenBeyond(freshIds: readonly number[], seen: ReadonlySet<number>, delta: Direction): number | null {
  if (delta > 0) {
    let last = -1;
    freshIds.forEach((id, k) => {
      if (seen.has(id)) last = k;
    });
    return freshIds[last + 1] ?? null;
  }
  const first = freshIds.findIndex((id) => seen.has(id));
  return first > 0 ? freshIds[first - 1] : null;
}

/**
 * The case past the edge of the remembered page: first a case that moved onto that page since it was shown,
 * then the first (or, going back, last) case of the adjacent page that the reader has not seen on this one.
 * Null when the worklist has no case that way.
 */
export async function findAcrossEdge(pos: WorklistPosition, delta: Direction, fetchPage: PageFetcher): Promise<Step | null> {
  const page = pos.query.page ?? 1;
  const seen = new Set(pos.ids);
  const fresh = await fetchPage(page);
  const moved = unseenBeyond(fresh.ids, seen, delta);
  if (moved != null) return { id: moved, position: { ...pos, ids: fresh.ids, total: fresh.total } };

  const other = page + delta;
  const size = pos.query.page_size ?? pos.ids.length;
  if (other < 1 || (delta > 0 && page * size >= fresh.total)) return null;
  const adjacent = await fetchPage(other);
  const unseen = adjacent.ids.filter((id) => !seen.has(id));
  const id = delta > 0 ? unseen[0] : unseen[unseen.length - 1];
  if (id == null) return null;
  return {
    id,
    position: {
      search: searchWithPage(pos.search, other),
      query: { ...pos.query, page: other },
      ids: adjacent.ids,
      total: adjacent.total,
    },
  };
}
