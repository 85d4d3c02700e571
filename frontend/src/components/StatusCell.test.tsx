import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { TriageChip } from './StatusCell';

describe('TriageChip', () => {
  it('explains a rescan chip without claiming the scan is incomplete (it may be an image artefact)', () => {
    render(<TriageChip triage="rescan" />);
    expect(screen.getByText('rescan')).toHaveAttribute('title', 'Acquisition problem: rescan recommended');
  });

  it('gives other triage chips no rescan explanation', () => {
    render(<TriageChip triage="urgent" />);
    expect(screen.getByText('urgent')).not.toHaveAttribute('title');
  });
});
