import { describe, expect, it, vi } from 'vitest';
import { canStep, findAcrossEdge, stepWithin, unseenBeyond } from './caseNeighbours';
import type { WorklistPosition } from './worklistMemory';

const position = (ids: number[], page: number, total: number, pageSize = 3): WorklistPosition => ({
  search: page > 1 ? `?flagged=1&page=${page}` : '?flagged=1',
  query: { page, page_size: pageSize, flagged: true },
  ids,
  total,
});

/** The server's worklist now: ``ids`` in order, in pages of 3. */
const server = (ids: number[]) =>
  vi.fn(async (page: number) => ({ ids: ids.slice((page - 1) * 3, page * 3), total: ids.length }));

describe('canStep and stepWithin', () => {
  it('steps within the remembered page and offers a step past its edge only where the list goes on', () => {
    const p = position([4, 5, 6], 2, 8);
    expect(stepWithin(p, 5, 1)).toBe(6);
    expect(stepWithin(p, 5, -1)).toBe(4);
    expect(stepWithin(p, 6, 1)).toBeNull();
    expect(canStep(p, 6, 1)).toBe(true); // page 3 holds cases 7 and 8
    expect(canStep(p, 4, -1)).toBe(true); // page 1
    expect(canStep(position([1, 2, 3], 1, 8), 1, -1)).toBe(false);
    expect(canStep(position([7, 8], 3, 8), 8, 1)).toBe(false);
    // a case not on the remembered page (opened from a link) has no neighbours
    expect(canStep(p, 99, 1)).toBe(false);
    expect(canStep(null, 5, 1)).toBe(false);
  });
});

describe('unseenBeyond', () => {
  const seen = new Set([1, 2, 3]);
  it('finds, going forward, the first case after the remembered ones still listed', () => {
    expect(unseenBeyond([2, 3, 4], seen, 1)).toBe(4); // 1 was reviewed and left the list
    expect(unseenBeyond([4, 5, 6], seen, 1)).toBe(4); // all three left: the page moved up
    expect(unseenBeyond([1, 2, 3], seen, 1)).toBeNull(); // nothing changed
  });
  it('finds, going back, the last case before the first remembered one still listed', () => {
    expect(unseenBeyond([0, 1, 2], seen, -1)).toBe(0);
    expect(unseenBeyond([1, 2, 3], seen, -1)).toBeNull();
    // none left: what is on the page now came from later pages, not earlier ones
    expect(unseenBeyond([4, 5, 6], seen, -1)).toBeNull();
  });
});

describe('findAcrossEdge', () => {
  it('goes on to the first case of the next page of an unchanged list', async () => {
    const fetchPage = server([1, 2, 3, 4, 5, 6, 7]);
    const step = await findAcrossEdge(position([1, 2, 3], 1, 7), 1, fetchPage);
    expect(step).toEqual({ id: 4, position: position([4, 5, 6], 2, 7) });
    expect(fetchPage.mock.calls.map(([p]) => p)).toEqual([1, 2]);
  });

  it('skips no case when reviewed cases left a filtered list ("Unreviewed only")', async () => {
    // 1 to 3 were reviewed: 4 to 6 are page 1 now, so page 2 would skip them
    const step = await findAcrossEdge(position([1, 2, 3], 1, 7), 1, server([4, 5, 6, 7]));
    expect(step).toEqual({ id: 4, position: position([4, 5, 6], 1, 4) });
    // only 3 was reviewed
    expect((await findAcrossEdge(position([1, 2, 3], 1, 7), 1, server([1, 2, 4, 5, 6, 7])))?.id).toBe(4);
  });

  it('goes back to the last case of the previous page the reader has not seen on this one', async () => {
    // 2 left the list: 4 moved onto page 1, and the reader saw it on page 2
    const step = await findAcrossEdge(position([4, 5, 6], 2, 7), -1, server([1, 3, 4, 5, 6, 7]));
    expect(step).toEqual({ id: 3, position: position([1, 3, 4], 1, 6) });
    expect(await findAcrossEdge(position([1, 2, 3], 1, 7), -1, server([1, 2, 3, 4]))).toBeNull();
  });

  it('finds nothing past the end of the list', async () => {
    const fetchPage = server([1, 2, 3]);
    expect(await findAcrossEdge(position([1, 2, 3], 1, 4), 1, fetchPage)).toBeNull();
    expect(fetchPage).toHaveBeenCalledTimes(1);
  });
});
