import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/react';
import { NumberField } from './ScanControls';

describe('NumberField (window / level)', () => {
  it('keeps a typed value within the field bounds', () => {
    const commit = vi.fn();
    render(<NumberField label="Window" value={300} step={1} min={1} max={858} disabled={false} onCommit={commit} />);
    const field = screen.getByLabelText('Window');
    fireEvent.change(field, { target: { value: '-50' } });
    expect(commit).toHaveBeenLastCalledWith(1);
    fireEvent.change(field, { target: { value: '99999' } });
    expect(commit).toHaveBeenLastCalledWith(858);
    fireEvent.change(field, { target: { value: '400' } });
    expect(commit).toHaveBeenLastCalledWith(400);
  });
});
