import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AWAY_AFTER_MS, resetPresence } from '../lib/presence';
import { POLL_MS, QUEUE_POLL_MS, WORKLIST_POLL_MS, pollWhile, queuePollMs, worklistPollMs } from './queries';

beforeEach(() => {
  vi.useFakeTimers();
  resetPresence();
});
afterEach(() => vi.useRealTimers());

describe('polls', () => {
  it('ask the queue again while runs wait, so the notice appears and clears on its own', () => {
    expect(queuePollMs({ queued: 3 })).toBe(QUEUE_POLL_MS);
  });

  it('stop asking on an empty queue: every request keeps the browser session from lapsing as idle', () => {
    expect(queuePollMs({ queued: 0 })).toBe(false);
    expect(queuePollMs(undefined)).toBe(false);
  });

  it('keep the worklist current with nothing under way (a colleague uploads an urgent scan), faster while runs move', () => {
    expect(worklistPollMs({ items: [] })).toBe(WORKLIST_POLL_MS);
    expect(worklistPollMs(undefined)).toBe(WORKLIST_POLL_MS);
    expect(worklistPollMs({ items: [{ status: 'running' }, { status: 'succeeded' }] } as never)).toBe(POLL_MS);
    vi.setSystemTime(Date.now() + AWAY_AFTER_MS + 1000);
    expect(worklistPollMs({ items: [] })).toBe(false);
  });

  it('stop while nobody is at the browser, and run again once someone is', () => {
    expect(pollWhile(true, POLL_MS)).toBe(POLL_MS);
    vi.setSystemTime(Date.now() + AWAY_AFTER_MS + 1000);
    expect(pollWhile(true, POLL_MS)).toBe(false);
    expect(queuePollMs({ queued: 3 })).toBe(false);
    window.dispatchEvent(new Event('pointerdown'));
    expect(pollWhile(true, POLL_MS)).toBe(POLL_MS);
    expect(pollWhile(false, POLL_MS)).toBe(false);
  });
});
