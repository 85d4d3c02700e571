import { describe, expect, it } from 'vitest';
import { screen } from '@testing-library/react';
import { renderAt } from '../test/render';
import { ApiError } from '../api/errors';
import { formatDateTime, withLocalDeletionTime } from '../lib/format';
import { CaseLoadError } from './CaseBar';
import { inTimeZone } from '../test/timeZone';

const said = 'Case 5 was deleted by a study coordinator.';
const deletedError = (deletedAt = '2026-12-06T10:12:00+00:00', message = said) =>
  new ApiError(404, message, message, { detail: message, deleted_at: deletedAt });

describe('CaseLoadError, a deleted case', () => {
  // five and a half hours ahead of UTC: the server's time and the local one differ in hour and minute
  inTimeZone('Asia/Kolkata');

  it('gives the time of the deletion in local time, as every other time in the app', () => {
    renderAt(<CaseLoadError error={deletedError()} onRetry={() => undefined} backTo="/" />);
    expect(screen.getByRole('heading', { name: 'Case deleted' })).toBeInTheDocument();
    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent(`Case 5 was deleted by a study coordinator, on ${formatDateTime('2026-12-06T10:12:00Z')}.`);
    expect(alert).toHaveTextContent('15:42');
    expect(alert).not.toHaveTextContent('10:12');
  });

  it('leaves the sentence as it is when the time cannot be read', () => {
    expect(withLocalDeletionTime(said, 'yesterday')).toBe(said);
  });

  it("shows a case that is not found, or not loaded, as the server says", () => {
    const gone = 'No case 7: it does not exist, or it was deleted.';
    renderAt(<CaseLoadError error={new ApiError(404, gone)} onRetry={() => undefined} backTo="/" />);
    expect(screen.getByRole('heading', { name: 'Case not found' })).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent(gone);
  });
});
