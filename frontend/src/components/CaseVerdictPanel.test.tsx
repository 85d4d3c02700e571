import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderAt } from '../test/render';
import { api } from '../api/client';
import { keys } from '../api/queries';
import type { CaseDetail } from '../api/types';
import { CaseVerdictPanel } from './CaseVerdictPanel';

afterEach(() => vi.restoreAllMocks());

const blind = {
  id: 4,
  case_verdict: null,
  other_case_verdicts: [],
  other_readers: 2,
  other_verdicts_hidden: true,
} as unknown as CaseDetail;

describe('CaseVerdictPanel, blind reading', () => {
  it('says others read the case and that their verdicts come once the reader saved theirs, then fetches them', async () => {
    const put = vi.spyOn(api, 'putCaseVerdict').mockResolvedValue({
      verdict: 'normal',
      comment: null,
      reviewer: 'clin2',
      updated_at: '2026-12-05T10:00:00Z',
      version: 1,
    });
    const { qc } = renderAt(<CaseVerdictPanel c={blind} canReview onNotice={() => {}} />);
    const invalidate = vi.spyOn(qc, 'invalidateQueries');
    expect(screen.getByTestId('blind-read-note')).toHaveTextContent(
      '2 other readers have reviewed this case. Their verdicts and marked findings are shown once you save your case verdict',
    );
    await userEvent.click(screen.getByRole('radio', { name: /Normal/ }));
    await userEvent.click(screen.getByRole('button', { name: /Save case verdict/ }));
    await waitFor(() => expect(put).toHaveBeenCalled());
    await waitFor(() => expect(invalidate).toHaveBeenCalledWith({ queryKey: keys.case(4) }));
  });

  it('has no such note where nothing is withheld', () => {
    renderAt(<CaseVerdictPanel c={{ ...blind, other_verdicts_hidden: false } as CaseDetail} canReview onNotice={() => {}} />);
    expect(screen.queryByTestId('blind-read-note')).not.toBeInTheDocument();
  });
});
