import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
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

  it('shows which saved settings are not the default, and Reset overlay brings all of them back', async () => {
    const onChange = vi.fn();
    const saved = { opacity: 0.8, threshold: 0.5, visible: true, colormap: 'hot' as const };
    render(<OverlayControls value={saved} onChange={onChange} disabled={false} render3d={false} onToggle3d={() => {}} />);
    expect(screen.getByTestId('overlay-differences')).toHaveTextContent(
      'Not the default: Threshold 0.50 (default 0.20), Opacity 80% (default 60%), Colormap hot (default warm).',
    );
    await userEvent.click(screen.getByRole('button', { name: 'Reset overlay' }));
    expect(onChange).toHaveBeenCalledWith(DEFAULT_OVERLAY);
  });

  it('says nothing of the defaults when the settings are the defaults', () => {
    render(<OverlayControls value={DEFAULT_OVERLAY} onChange={() => {}} disabled={false} render3d={false} onToggle3d={() => {}} />);
    expect(screen.queryByTestId('overlay-differences')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Reset overlay' })).not.toBeInTheDocument();
  });

  it('disabled for a case without a map: says why, and not what the saved settings are', () => {
    const saved = { ...DEFAULT_OVERLAY, threshold: 0.5 };
    render(
      <OverlayControls
        value={saved}
        onChange={() => {}}
        disabled
        disabledReason="No anomaly map: not screened for lesions"
        render3d={false}
        onToggle3d={() => {}}
      />,
    );
    expect(screen.getByRole('checkbox', { name: 'Show overlay' })).toBeDisabled();
    expect(screen.getByRole('slider', { name: 'Overlay threshold' })).toHaveAccessibleDescription(
      'No anomaly map: not screened for lesions',
    );
    expect(screen.queryByTestId('overlay-differences')).not.toBeInTheDocument();
  });
});
