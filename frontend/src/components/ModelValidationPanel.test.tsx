import { describe, expect, it } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import { ModelValidationPanel, missedText } from './ModelValidationPanel';
import type { CaseDetail, ModelValidation } from '../api/types';

const validation: ModelValidation = {
  data: 'synthetic',
  cases: 80,
  seeds: [0, 1],
  recorded: '2026-12-05',
  lesions: [
    { kind: 'tumour', diameter_mm: 10, total: 4, found: 0, median_dice: 0 },
    { kind: 'cavity', diameter_mm: 24, total: 4, found: 3, median_dice: 0.44 },
    { kind: 'small', diameter_mm: null, total: 22, found: 2, median_dice: 0 },
  ],
  normals: { scans: 12, flagged: 1, rescan: 0 },
  artefacts: { scans: 40, rescan: 39, flagged: 3 },
};

const detail = (extra: Partial<CaseDetail>): CaseDetail =>
  ({ sequence: 't1', flags: [], model_validation: validation, ...extra }) as CaseDetail;

describe('ModelValidationPanel', () => {
  it('warns on a scan without flags how many lesions the model missed in testing', () => {
    render(<ModelValidationPanel c={detail({})} />);
    expect(screen.getByRole('note')).toHaveTextContent(
      'No flag does not rule out a lesion: in testing, this model missed 5 of 8 lesions of 1 cm or more and 20 of 22 small lesions.',
    );
    expect(screen.getByText(/80 synthetic T1 scans made by the engine's generator, not patients \(benchmark seeds 0, 1;/)).toBeInTheDocument();
    const rows = within(screen.getByRole('table', { name: 'Lesions found in testing' })).getAllByRole('row');
    expect(rows.map((r) => r.textContent)).toEqual([
      'LesionFoundDice',
      'Tumour, 1.0 cm0 of 40.00',
      'Cavity, 2.4 cm3 of 40.44',
      'Small lesions2 of 220.00',
    ]);
    expect(screen.getByText(/Normal scans flagged: 1 of 12\. Scans with artefacts sent for a rescan: 39 of 40\./)).toBeInTheDocument();
  });

  it('keeps the figures but drops the warning when the scan carries flags', () => {
    const flag = { id: 1 } as CaseDetail['flags'][number];
    render(<ModelValidationPanel c={detail({ flags: [flag] })} />);
    expect(screen.queryByRole('note')).toBeNull();
    expect(screen.getByRole('table', { name: 'Lesions found in testing' })).toBeInTheDocument();
  });

  it('says when no figures were recorded for the model and its settings', () => {
    render(<ModelValidationPanel c={detail({ model_validation: null })} />);
    expect(screen.getByText(/No test figures were recorded for this model/)).toBeInTheDocument();
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('names only what was missed', () => {
    const perfect = { ...validation, lesions: validation.lesions.map((r) => ({ ...r, found: r.total })) };
    expect(missedText(perfect)).toBeNull();
    const smallOnly = { ...validation, lesions: [{ kind: 'small', diameter_mm: null, total: 5, found: 4, median_dice: 0.5 }] };
    expect(missedText(smallOnly)).toBe('1 of 5 small lesions');
  });
});
