import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { QualityNotice, qualityHeading } from './QualityNotice';
import type { QualityIssue } from '../api/types';

const issue = (kind: string, message: string, axis: number | null = null): QualityIssue =>
  ({ kind, axis, planes: null, extent_mm: null, message }) as QualityIssue;

const motion = issue(
  'motion',
  'Motion: k-space lines along the left-right axis disagree with their neighbours; rescan recommended.',
  0,
);
const gap = issue('missing_slices', 'Slices missing inside the brain (planes 40-47); rescan recommended.', 2);

describe('QualityNotice', () => {
  it("puts the engine's motion sentence above the viewer as an image artefact, not a coverage gap", () => {
    render(<QualityNotice issues={[motion]} />);
    expect(screen.getByRole('alert')).toHaveTextContent('Image artefact: rescan recommended');
    expect(screen.getByRole('list', { name: 'Acquisition problems' })).toHaveTextContent(motion.message);
  });

  it('tells the reader first when part of the brain was not imaged', () => {
    expect(qualityHeading([gap])).toBe('Incomplete scan: rescan recommended');
    expect(qualityHeading([gap, motion])).toBe('Incomplete scan with image artefacts: rescan recommended');
  });

  it('shows nothing for a scan without problems', () => {
    const { container } = render(<QualityNotice issues={[]} />);
    expect(container).toBeEmptyDOMElement();
  });
});
