import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, renderHook } from '@testing-library/react';
import { AWAY_AFTER_MS, resetPresence, usePresence, userPresent } from './presence';

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
  resetPresence();
});
afterEach(() => vi.useRealTimers());

describe('presence', () => {
  it('turns away after AWAY_AFTER_MS without input and back at the next key or pointer input', async () => {
    const { result } = renderHook(() => usePresence());
    expect(result.current).toBe(true);
    await act(() => vi.advanceTimersByTimeAsync(AWAY_AFTER_MS - 60_000));
    expect(result.current).toBe(true);
    await act(() => vi.advanceTimersByTimeAsync(90_000));
    expect(result.current).toBe(false);
    expect(userPresent()).toBe(false);
    act(() => window.dispatchEvent(new KeyboardEvent('keydown', { key: 'j' })));
    expect(result.current).toBe(true);
    await act(() => vi.advanceTimersByTimeAsync(AWAY_AFTER_MS - 60_000));
    act(() => window.dispatchEvent(new Event('pointermove')));
    await act(() => vi.advanceTimersByTimeAsync(AWAY_AFTER_MS - 60_000));
    expect(result.current).toBe(true); // each input starts the wait again
  });

  it('counts input the viewer stops from propagating (captured on the window first)', () => {
    const canvas = document.createElement('canvas');
    document.body.appendChild(canvas);
    canvas.addEventListener('pointerdown', (e) => e.stopPropagation());
    userPresent(); // starts watching
    vi.setSystemTime(Date.now() + AWAY_AFTER_MS + 1000);
    expect(userPresent()).toBe(false);
    canvas.dispatchEvent(new Event('pointerdown', { bubbles: true }));
    expect(userPresent()).toBe(true);
    canvas.remove();
  });
});
