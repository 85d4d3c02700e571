import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ScanPanel } from './ScanPanel';
import { caseDetail } from '../test/caseDetail';
import { renderAt } from '../test/render';

const dicomCase = caseDetail({
  source_format: 'dicom',
  dicom_meta: { acquisition_date: '2031-11-20', acquisition_date_shifted: 'yes', manufacturer: 'GE', field_strength_t: '3' },
  same_patient: [
    { id: 8, label: 'follow-up', sequence: 'flair', uploaded_at: '2026-11-02T09:00:00Z', acquisition_date: '2031-03-10', status: 'succeeded', triage: 'urgent' },
    { id: 3, label: 'baseline', sequence: 't1', uploaded_at: '2026-11-01T09:00:00Z', acquisition_date: null, status: 'queued', triage: null },
  ],
});

describe('ScanPanel', () => {
  it("shows the series' acquisition facts and links the patient's other scans", async () => {
    renderAt(<ScanPanel c={dicomCase} />);
    const facts = screen.getByRole('region', { name: 'Scan' });
    expect(within(facts).getByText('2031-11-20 (shifted per patient)')).toBeInTheDocument();
    expect(within(facts).getByText('GE 3 T')).toBeInTheDocument();
    const others = screen.getByRole('list', { name: 'Other scans of this patient' });
    const items = within(others).getAllByRole('listitem');
    expect(items.map((li) => li.textContent)).toEqual([
      'follow-up FLAIR · acquired 2031-03-10 · urgent',
      expect.stringMatching(/^baseline T1 · uploaded 1 Nov 2026, 09:00 UTC · queued$/),
    ]);
    await userEvent.click(within(others).getByRole('link', { name: 'follow-up' }));
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/cases\/8$/);
  });

  it('says how many older scans it leaves out of a long history', () => {
    renderAt(<ScanPanel c={{ ...dicomCase, same_patient_more: 12 }} />);
    const others = screen.getByRole('list', { name: 'Other scans of this patient' });
    expect(within(others).getAllByRole('listitem').at(-1)).toHaveTextContent(
      '12 more not listed: only the 2 most recent are shown.',
    );
  });

  it('says when the patient has no other scan here', () => {
    renderAt(<ScanPanel c={{ ...dicomCase, same_patient: [] }} />);
    expect(screen.getByText('None here.')).toBeInTheDocument();
  });

  it("says when the site's retention period deletes the case, and nothing where the site keeps cases", () => {
    renderAt(<ScanPanel c={{ ...dicomCase, delete_after: '2027-03-06T09:00:00Z' }} />);
    expect(screen.getByText('Retention ends').nextSibling).toHaveTextContent(
      /^6 Mar 2027, \d\d:00 [A-Z+\d:]+; the case is then deleted$/,
    );
    renderAt(<ScanPanel c={{ ...dicomCase, delete_after: null }} />);
    expect(screen.getAllByText('Retention ends')).toHaveLength(1);
  });

  it('says that a NIfTI upload has no patient link', () => {
    renderAt(<ScanPanel c={caseDetail({ source_format: 'nifti', dicom_meta: {}, same_patient: [] })} />);
    expect(screen.getByText('NIfTI file')).toBeInTheDocument();
    expect(screen.getByText(/A NIfTI upload carries no patient link/)).toBeInTheDocument();
    expect(screen.queryByRole('list', { name: 'Other scans of this patient' })).not.toBeInTheDocument();
  });
});
