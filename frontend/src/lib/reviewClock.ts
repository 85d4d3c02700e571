import { AWAY_AFTER_MS } from './presence';

/**
 * The time a reader spent on a case: the page visible, and someone at the browser.
 *
 * Visible time after the last input is held back, since nobody may be there: the next input confirms it (the reader
 * was looking at the scan), while an absence (no input for `AWAY_AFTER_MS`) drops it. An unattended screen
 * therefore adds nothing to the review-time statistics, not even the minutes before it counts as unattended.
 * Times are epoch milliseconds.
 */
export class ReviewClock {
  private confirmedMs = 0;
  /** visible stretches [start, end] that no input has confirmed yet, oldest first */
  private held: Array<[number, number]> = [];

  constructor(
    private since: number,
    private visible: boolean,
    /** the last input the clock has seen */
    private lastInput: number,
  ) {}

  /**
   * Books the stretch since the last call as it was (visible or not), then confirms held time up to `lastInput`,
   * or drops it when that input ends an absence, and drops what follows it once the reader has been away. Call it
   * when the visibility changes (with the new state) and at least every half minute, so that the gap between two
   * inputs it sees is the reader's.
   */
  advance(now: number, visibleNow: boolean, lastInput: number): void {
    if (this.visible && now > this.since) this.held.push([this.since, now]);
    this.since = now;
    this.visible = visibleNow;
    const returned = lastInput - this.lastInput >= AWAY_AFTER_MS;
    this.lastInput = lastInput;
    const unconfirmed: Array<[number, number]> = [];
    for (const [start, end] of this.held) {
      if (lastInput > start && !returned) this.confirmedMs += Math.min(end, lastInput) - start;
      if (end > lastInput) unconfirmed.push([Math.max(start, lastInput), end]);
    }
    this.held = now - lastInput >= AWAY_AFTER_MS ? [] : unconfirmed;
  }

  /** The whole seconds confirmed so far, taken out of the clock; a fraction stays for the next report. */
  take(): number {
    const seconds = Math.floor(this.confirmedMs / 1000);
    this.confirmedMs -= seconds * 1000;
    return seconds;
  }
}
