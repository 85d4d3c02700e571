import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { OverlayControls } from './OverlayControls';
import { DEFAULT_OVERLAY } from '../lib/overlay';

describe('OverlayControls', () => {
  it('labels the overlay shortcut as the key O, not a bare "O" that reads as a zero', () => {
    render(<OverlayControls value={DEFAULT_OVERLAY} onChange={() => {}} disabled={false} render3d={false} onToggle3d={() => {}} />);
    const box = screen.getByRole('checkbox', { name: 'Show overlay' });
    const label = box.closest('label')!;
    const hint = label.querySelector('.key-hint')!;
    expect(hint).toHaveTextContent(/^key O$/);
    expect(hint).toHaveAttribute('title', 'Keyboard shortcut: the letter O');
    expect(hint.querySelector('kbd')).toHaveTextContent(/^O$/);
  });
});
