import { describe, expect, it } from 'vitest';
import { act, renderHook } from '@testing-library/react';
import { useNotice } from './notice';

describe('useNotice', () => {
  it('counts a notice worded as the last, so that LiveNotice replaces its line and it is read out again', () => {
    const { result } = renderHook(() => useNotice());
    act(() => result.current[1]('bob disabled.'));
    const first = result.current[0];
    act(() => result.current[1]('bob disabled.'));
    expect(result.current[0]).toEqual({ text: 'bob disabled.', serial: first.serial + 1 });
  });
});
