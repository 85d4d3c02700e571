import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { TriageChip, TriageChips } from './StatusCell';

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

describe('TriageChips', () => {
  it('marks a checks-only result as not screened, beside its triage', () => {
    render(<TriageChips c={{ triage: 'review', rescan_recommended: false, screening: 'checks' }} />);
    expect(screen.getByText('review')).toBeInTheDocument();
    expect(screen.getByText('not screened')).toHaveAttribute('title', expect.stringMatching(/no lesion search ran/));
  });

  it('adds nothing to a screened result', () => {
    render(<TriageChips c={{ triage: 'routine', rescan_recommended: false, screening: 'lesions' }} />);
    expect(screen.queryByText('not screened')).not.toBeInTheDocument();
  });

  it('qualifies a routine result from a model that missed many lesions in testing, and only that', () => {
    const { rerender } = render(
      <TriageChips
        c={{ triage: 'routine', rescan_recommended: false, screening: 'lesions', missed_in_testing: { missed: 20, total: 24 } }}
      />,
    );
    expect(screen.getByText('low sensitivity')).toHaveAttribute(
      'title',
      'No flag does not rule out a lesion: in testing, this model missed 20 of 24 lesions of 1 cm or more',
    );
    // flagged results say enough by their flags; a model that missed few lesions needs no caveat
    rerender(
      <TriageChips
        c={{ triage: 'review', rescan_recommended: false, screening: 'lesions', missed_in_testing: { missed: 20, total: 24 } }}
      />,
    );
    expect(screen.queryByText('low sensitivity')).not.toBeInTheDocument();
    rerender(
      <TriageChips
        c={{ triage: 'routine', rescan_recommended: false, screening: 'lesions', missed_in_testing: { missed: 2, total: 24 } }}
      />,
    );
    expect(screen.queryByText('low sensitivity')).not.toBeInTheDocument();
  });
});
