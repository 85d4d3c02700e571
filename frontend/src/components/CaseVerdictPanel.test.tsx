import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderAt } from '../test/render';
import { api } from '../api/client';
import { keys, useCase } from '../api/queries';
import { ApiError } from '../api/errors';
import type { CaseDetail, CaseVerdict } from '../api/types';
import { caseDetail } from '../test/caseDetail';
import { loadDraft } from '../lib/caseDraft';
import { CaseVerdictPanel } from './CaseVerdictPanel';

afterEach(() => {
  vi.restoreAllMocks();
  sessionStorage.clear();
});

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

/** The panel on the case as the page has it: fetched, and fetched again when the panel invalidates it. */
function PanelOnCase() {
  const q = useCase(5);
  return q.data ? <CaseVerdictPanel c={q.data} canReview onNotice={() => {}} draftUser="clin" /> : null;
}

const verdict = (over: Partial<CaseVerdict>): CaseVerdict => ({
  verdict: 'normal',
  comment: null,
  reviewer: 'clin',
  updated_at: '2026-01-01T10:09:00Z',
  version: 1,
  ...over,
});

describe('CaseVerdictPanel, a save refused with 409', () => {
  it("keeps the reader's verdict, comment and draft, shows the saved verdict beside them, and saves again on it", async () => {
    // the reader's other tab saved "Normal" first
    let fetches = 0;
    vi.spyOn(api, 'getCase').mockImplementation(async () =>
      ++fetches === 1 ? caseDetail() : caseDetail({ case_verdict: verdict({ comment: 'clear' }) }),
    );
    const put = vi
      .spyOn(api, 'putCaseVerdict')
      .mockRejectedValueOnce(new ApiError(409, 'The case verdict was changed meanwhile.'))
      .mockImplementationOnce(async (_id, body) => verdict({ verdict: body.verdict, comment: body.comment ?? null, version: 2 }));
    renderAt(<PanelOnCase />);
    await userEvent.click(await screen.findByRole('radio', { name: 'Abnormal' }));
    const text = 'Ring-enhancing lesion left frontal, 14 mm';
    await userEvent.type(screen.getByLabelText('Case comment'), text);
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('Your verdict and comment are kept');
    await waitFor(() => expect(fetches).toBe(2));
    expect(await screen.findByTestId('case-verdict-conflict')).toHaveTextContent('Saved meanwhile: Normal · “clear”');
    expect(screen.getByLabelText('Case comment')).toHaveValue(text);
    expect(screen.getByRole('radio', { name: 'Abnormal' })).toBeChecked();
    expect(loadDraft('clin', 5).caseVerdict).toEqual({ verdict: 'abnormal', comment: text });

    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    await waitFor(() => expect(put).toHaveBeenLastCalledWith(5, { verdict: 'abnormal', comment: text, version: 1 }));
    await waitFor(() => expect(screen.queryByTestId('case-verdict-conflict')).not.toBeInTheDocument());
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(loadDraft('clin', 5).caseVerdict).toBeUndefined();
  });

  it('takes the saved verdict instead when the reader chooses to', async () => {
    let fetches = 0;
    vi.spyOn(api, 'getCase').mockImplementation(async () => (++fetches === 1 ? caseDetail() : caseDetail({ case_verdict: verdict({}) })));
    vi.spyOn(api, 'putCaseVerdict').mockRejectedValue(new ApiError(409, 'The case verdict was changed meanwhile.'));
    renderAt(<PanelOnCase />);
    await userEvent.click(await screen.findByRole('radio', { name: 'Uncertain' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Take the saved verdict' }));
    expect(screen.getByRole('radio', { name: 'Normal' })).toBeChecked();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(loadDraft('clin', 5).caseVerdict).toBeUndefined();
  });
});

describe('CaseVerdictPanel while saving', () => {
  it('keeps "Save case verdict" focusable (aria-disabled, not disabled) and sends one request however often it is pressed', async () => {
    let finish: (v: CaseVerdict) => void = () => undefined;
    const put = vi.spyOn(api, 'putCaseVerdict').mockImplementation(() => new Promise((r) => (finish = r)));
    renderAt(<CaseVerdictPanel c={caseDetail()} canReview onNotice={() => {}} />);
    await userEvent.click(screen.getByRole('radio', { name: 'Normal' }));
    const saveButton = screen.getByRole('button', { name: 'Save case verdict' });
    saveButton.focus();
    await userEvent.keyboard('{Enter}');
    await waitFor(() => expect(saveButton).toHaveAttribute('aria-disabled', 'true'));
    expect(saveButton).toBeEnabled();
    expect(saveButton).toHaveFocus();
    await userEvent.keyboard('{Enter}');
    expect(put).toHaveBeenCalledTimes(1);
    finish(verdict({}));
    await waitFor(() => expect(saveButton).not.toHaveAttribute('aria-disabled'));
    expect(saveButton).toHaveFocus();
  });
});
