import { describe, expect, it } from 'vitest';
import { AWAY_AFTER_MS } from './presence';
import { ReviewClock } from './reviewClock';

const MIN = 60_000;

describe('review time', () => {
  it('counts visible time up to the last input, and the rest once the next input shows the reader was there', () => {
    const clock = new ReviewClock(0, true, 0);
    clock.advance(30_000, true, 20_000);
    expect(clock.take()).toBe(20);
    // five minutes looking at the scan without touching it, then a scroll: all of it was review
    clock.advance(5 * MIN, true, 20_000);
    expect(clock.take()).toBe(0);
    clock.advance(5 * MIN + 30_000, true, 5 * MIN + 10_000);
    expect(clock.take()).toBe(5 * 60 + 10 - 20);
  });

  it('drops the time after the last input when the reader turns out to have left', () => {
    const clock = new ReviewClock(0, true, 0);
    clock.advance(60_000, true, 60_000);
    expect(clock.take()).toBe(60);
    clock.advance(60_000 + AWAY_AFTER_MS, true, 60_000);
    expect(clock.take()).toBe(0);
    // back after half an hour, between two reports: only time from the return on counts
    clock.advance(30 * MIN + 50_000, true, 60_000);
    clock.advance(31 * MIN + 20_000, true, 31 * MIN);
    expect(clock.take()).toBe(0);
    clock.advance(32 * MIN, true, 32 * MIN);
    expect(clock.take()).toBe(60);
  });

  it('books a stretch by the visibility it had, not the one it changes to', () => {
    const clock = new ReviewClock(0, true, 0);
    clock.advance(10_000, false, 10_000); // hidden at 10 s: the 10 s before were visible
    clock.advance(70_000, true, 70_000); // shown again at 70 s: the minute before was hidden
    clock.advance(80_000, true, 80_000);
    expect(clock.take()).toBe(20);
  });

  it('keeps fractions of a second for the next report', () => {
    const clock = new ReviewClock(0, true, 0);
    clock.advance(1_500, true, 1_500);
    expect(clock.take()).toBe(1);
    clock.advance(3_000, true, 3_000);
    expect(clock.take()).toBe(2);
  });
});
