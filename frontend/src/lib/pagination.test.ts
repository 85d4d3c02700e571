import { describe, expect, it } from 'vitest';
import { lastPageInstead, pageCount } from './pagination';

const listOf = (items: number, total: number) => ({ items: Array.from({ length: items }), total, page_size: 25 });

describe('pageCount', () => {
  it('counts a last page part full, and one page for none', () => {
    expect(pageCount(0, 25)).toBe(1);
    expect(pageCount(25, 25)).toBe(1);
    expect(pageCount(26, 25)).toBe(2);
  });
});

describe('lastPageInstead', () => {
  it('names the last page for an empty page past it', () => {
    expect(lastPageInstead(99, listOf(0, 30), 25)).toBe(2);
    expect(lastPageInstead(2, listOf(0, 2), 25)).toBe(1);
    // the page size the server answered with, over the one asked for
    expect(lastPageInstead(9, { items: [], total: 30, page_size: 10 }, 25)).toBe(3);
  });

  it('leaves a page with rows, a page within the list, and a list of none', () => {
    expect(lastPageInstead(2, listOf(5, 30), 25)).toBeNull();
    expect(lastPageInstead(2, listOf(0, 0), 25)).toBeNull();
    expect(lastPageInstead(1, listOf(0, 0), 25)).toBeNull();
  });
});
