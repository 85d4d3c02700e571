import { describe, expect, it } from 'vitest';
import { QUEUE_POLL_MS, queuePollMs } from './queries';

describe('queuePollMs', () => {
  it('asks again while runs wait, so the notice appears and clears on its own', () => {
    expect(queuePollMs({ queued: 3 })).toBe(QUEUE_POLL_MS);
  });

  it('stops asking on an empty queue: every request keeps the browser session from lapsing as idle', () => {
    expect(queuePollMs({ queued: 0 })).toBe(false);
    expect(queuePollMs(undefined)).toBe(false);
  });
});
