import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen } from '@testing-library/react';
import { renderAt } from '../test/render';
import { caseDetail } from '../test/caseDetail';
import { api } from '../api/client';
import type { CaseDetail } from '../api/types';
import { FindingsPanel } from './FindingsPanel';

afterEach(() => vi.restoreAllMocks());

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
});
