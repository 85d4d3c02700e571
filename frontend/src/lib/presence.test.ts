import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, renderHook } from '@testing-library/react';
import { AWAY_AFTER_MS, resetPresence, usePresence, useReturns, userPresent } from './presence';

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

  it('counts a return that comes before the next re-check noticed the absence', async () => {
    const { result } = renderHook(() => ({ present: usePresence(), returns: useReturns() }));
    const before = result.current.returns;
    await act(() => vi.advanceTimersByTimeAsync(7_500));
    act(() => window.dispatchEvent(new KeyboardEvent('keydown')));
    // 10 min 2.5 s later: the polls (userPresent) stopped 2.5 s ago, the last re-check still saw someone there
    await act(() => vi.advanceTimersByTimeAsync(AWAY_AFTER_MS + 2_500));
    expect(userPresent()).toBe(false);
    act(() => window.dispatchEvent(new KeyboardEvent('keydown')));
    expect(result.current.returns).toBe(before + 1);
  });

  it('takes the window coming into focus as a return, not the app moving focus between its own elements', () => {
    const { result } = renderHook(() => useReturns());
    const before = result.current;
    const field = document.createElement('input');
    document.body.appendChild(field);
    vi.setSystemTime(Date.now() + AWAY_AFTER_MS + 1000);
    act(() => field.focus());
    expect(userPresent()).toBe(false);
    act(() => window.dispatchEvent(new FocusEvent('focus')));
    expect(userPresent()).toBe(true);
    expect(result.current).toBe(before + 1);
    field.remove();
  });
});

