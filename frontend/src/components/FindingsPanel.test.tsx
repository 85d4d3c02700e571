import { afterEach, describe, expect, it, vi } from 'vitest';
import { useState } from 'react';
import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderAt } from '../test/render';
import { caseDetail } from '../test/caseDetail';
import { api } from '../api/client';
import type { CaseDetail } from '../api/types';
import { FindingsPanel } from './FindingsPanel';
import type { Readout } from './Viewer';

afterEach(() => {
  vi.restoreAllMocks();
  sessionStorage.clear();
});

const finding = (id: number, reviewer: string) => ({
  id,
  point_mm: [1, 2, 3],
  point_voxel: null,
  radius_mm: 0,
  comment: null,
  reviewer,
  created_at: '2026-01-01T10:00:00Z',
});

describe('FindingsPanel', () => {
  it("offers Delete only on the reader's own findings (the server deletes no one else's)", () => {
    // after the blind read, other readers' findings are listed too
    const c = caseDetail({ findings: [finding(91, 'otherdoc'), finding(92, 'clin')] } as Partial<CaseDetail>);
    renderAt(<FindingsPanel c={c} canReview user="clin" crosshair={null} onGoto={() => {}} />);
    expect(screen.getByText(/otherdoc/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Delete finding 1' })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Delete finding 2' })).toBeInTheDocument();
  });

  it('offers no Delete to roles that do not review', () => {
    const c = caseDetail({ findings: [finding(92, 'clin')] } as Partial<CaseDetail>);
    vi.spyOn(api, 'deleteFinding');
    renderAt(<FindingsPanel c={c} canReview={false} user="clin" crosshair={null} onGoto={() => {}} />);
    expect(screen.queryByRole('button', { name: 'Delete finding 1' })).not.toBeInTheDocument();
  });

  it('brings back a finding comment typed before the page went away (an expired session), and forgets it once marked', async () => {
    const c = caseDetail({ findings: [] } as Partial<CaseDetail>);
    const first = renderAt(<FindingsPanel c={c} canReview user="clin" crosshair={null} onGoto={() => {}} />);
    fireEvent.change(screen.getByLabelText('Finding comment'), { target: { value: 'subtle hyperintensity' } });
    first.unmount();

    // another reader on the same tab sees nothing of it
    const other = renderAt(<FindingsPanel c={c} canReview user="otherdoc" crosshair={null} onGoto={() => {}} />);
    expect(screen.getByLabelText('Finding comment')).toHaveValue('');
    other.unmount();

    const add = vi.spyOn(api, 'addFinding').mockResolvedValue(finding(93, 'clin'));
    const crosshair = { mm: [1, 2, 3], vox: [10, 20, 30], scan: null, anomaly: null, placed: true };
    const second = renderAt(<FindingsPanel c={c} canReview user="clin" crosshair={crosshair} onGoto={() => {}} />);
    expect(screen.getByLabelText('Finding comment')).toHaveValue('subtle hyperintensity');
    fireEvent.click(screen.getByRole('button', { name: /Mark finding at crosshair/ }));
    await waitFor(() => expect(screen.getByLabelText('Finding comment')).toHaveValue(''));
    expect(add).toHaveBeenCalledWith(c.id, expect.objectContaining({ comment: 'subtle hyperintensity' }));
    second.unmount();
    renderAt(<FindingsPanel c={c} canReview user="clin" crosshair={null} onGoto={() => {}} />);
    expect(screen.getByLabelText('Finding comment')).toHaveValue('');
  });

  it('marks nothing at a crosshair the reader has not placed: the button says why, Enter in the comment does nothing', async () => {
    const c = caseDetail({ findings: [] } as Partial<CaseDetail>);
    const add = vi.spyOn(api, 'addFinding').mockResolvedValue(finding(93, 'clin'));
    const onNotice = vi.fn();
    const markRef: { current: (() => void) | null } = { current: null };
    // the viewer reports the volume centre as soon as the scan is drawn
    const centre = { mm: [0, -16.5, 6], vox: [96, 96, 64], scan: 12, anomaly: 0.01, placed: false };
    let place: (r: Readout) => void = () => {};
    function Page() {
      const [crosshair, setCrosshair] = useState<Readout>(centre);
      place = setCrosshair;
      return <FindingsPanel c={c} canReview user="clin" crosshair={crosshair} onGoto={() => {}} markRef={markRef} onNotice={onNotice} />;
    }
    renderAt(<Page />);
    const button = screen.getByRole('button', { name: /Mark finding at crosshair/ });
    expect(button).toBeDisabled();
    expect(button).toHaveAccessibleDescription('Click in the image to place the crosshair first.');
    await userEvent.type(screen.getByLabelText('Finding comment'), 'subtle hyperintensity{Enter}');
    markRef.current?.(); // the M key
    expect(add).not.toHaveBeenCalled();
    expect(onNotice).toHaveBeenCalledWith('Click in the image to place the crosshair first.');
    // the comment stays, as a draft, for when the point is placed
    expect(screen.getByLabelText('Finding comment')).toHaveValue('subtle hyperintensity');

    // a click in the image
    act(() => place({ ...centre, mm: [12, 4, 6], vox: [108, 116, 64], placed: true }));
    expect(screen.getByRole('button', { name: /Mark finding at crosshair/ })).toBeEnabled();
    expect(screen.queryByText('Click in the image to place the crosshair first.')).not.toBeInTheDocument();
    await userEvent.type(screen.getByLabelText('Finding comment'), '{Enter}');
    await waitFor(() => expect(add).toHaveBeenCalledTimes(1));
    expect(add).toHaveBeenCalledWith(c.id, expect.objectContaining({ point_mm: [12, 4, 6], comment: 'subtle hyperintensity' }));
  });
});
