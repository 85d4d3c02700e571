import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { WeakRegions } from './WeakRegions';
import type { CaseDetail } from '../api/types';

const detail = (extra: Partial<CaseDetail>): CaseDetail =>
  ({ min_peak_ratio: 0.25, weak_regions: [], ...extra }) as CaseDetail;

describe('WeakRegions', () => {
  it('lists each region left out with its size, place and peak, and goes to it', async () => {
    const onGoto = vi.fn();
    const regions = [
      { volume_ml: 0.45, centroid_mm: [6.8, -31.7, -5.1], peak_ratio: 0.14 },
      { volume_ml: 1.84, centroid_mm: [-23.3, -41.4, 12.3], peak_ratio: 0.21 },
      // just under the limit: never shown as the limit the text says it stays under
      { volume_ml: 0.6, centroid_mm: [1, 2, 3], peak_ratio: 0.2496 },
    ];
    render(<WeakRegions c={detail({ weak_regions: regions })} onGoto={onGoto} />);
    expect(screen.getByText(/under 25 % of the strongest flag/)).toBeInTheDocument();
    expect(screen.getByText(/0\.45 mL at \(6\.8, -31\.7, -5\.1\) mm · peak 14 %/)).toBeInTheDocument();
    expect(screen.getByText(/ mL at \(1(\.0)?, 2(\.0)?, 3(\.0)?\) mm · peak 24 %/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Go to weaker region 2' }));
    expect(onGoto).toHaveBeenCalledWith([-23.3, -41.4, 12.3]);
  });

  it('goes to the region\'s anchor, a point of the region itself, where the engine sent one', async () => {
    const onGoto = vi.fn();
    const regions = [{ volume_ml: 0.45, centroid_mm: [6.8, -31.7, -5.1], anchor_mm: [7, -30, -5], peak_ratio: 0.14 }];
    render(<WeakRegions c={detail({ weak_regions: regions })} onGoto={onGoto} />);
    await userEvent.click(screen.getByRole('button', { name: 'Go to weaker region 1' }));
    expect(onGoto).toHaveBeenCalledWith([7, -30, -5]);
  });

  it('shows nothing when nothing was left out or the engine predates the rule', () => {
    const one = [{ volume_ml: 0.45, centroid_mm: [0, 0, 0], peak_ratio: 0.1 }];
    const { container, rerender } = render(<WeakRegions c={detail({})} onGoto={() => {}} />);
    expect(container).toBeEmptyDOMElement();
    rerender(<WeakRegions c={detail({ min_peak_ratio: null, weak_regions: one })} onGoto={() => {}} />);
    expect(container).toBeEmptyDOMElement();
  });
});
