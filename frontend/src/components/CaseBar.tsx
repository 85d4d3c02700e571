import { Link } from 'react-router-dom';
import { ApiError, errorMessage } from '../api/errors';
import type { CaseDetail } from '../api/types';
import { formatDateTime, withLocalDeletionTime } from '../lib/format';
import type { CaseNeighbours } from '../lib/useCaseNeighbours';
import type { CaseSession } from '../lib/useCaseSession';
import { ModelLine } from './ModelLine';
import { StatusCell, TriageChips } from './StatusCell';

/**
 * The case page's top row, in groups that wrap whole on a narrow window: which case (back link, label,
 * sequence), its state (analysis, triage, model), and what the reader can do (their claim; previous / next
 * case and help, kept to the right).
 */
export function CaseBar({
  c,
  backTo,
  session,
  onRelease,
  neighbours,
  onHelp,
}: {
  c: CaseDetail;
  /** the last worklist address, filters and page included */
  backTo: string;
  session: CaseSession;
  onRelease: () => void;
  neighbours: CaseNeighbours;
  onHelp: () => void;
}) {
  const claim = session.claim;
  const claimControls =
    claim.kind === 'mine' ? (
      <>
        <span className="muted claim-line" title={`Your claim lasts until ${formatDateTime(claim.until)}`}>
          Claimed by you
        </span>
        <button type="button" onClick={onRelease} disabled={session.busy} aria-busy={session.busy}>
          Release claim
        </button>
      </>
    ) : claim.kind === 'released' ? (
      <>
        <span className="muted claim-line">Not claimed</span>
        <button type="button" onClick={session.claimAgain}>
          Claim case
        </button>
      </>
    ) : c.claimed_by ? (
      <span className="muted claim-line">Claimed by {c.claimed_by}</span>
    ) : null;
  return (
    <div className="case-bar">
      <div className="case-bar-group case-bar-identity">
        <Link to={backTo} className="back">
          Back to worklist
        </Link>
        <h1 id="case-title" title={c.label}>
          {c.label}
        </h1>
        <span className="muted small">{c.sequence.toUpperCase()}</span>
      </div>
      <div className="case-bar-group case-bar-state">
        <StatusCell c={c} />
        <TriageChips c={c} />
        <ModelLine c={c} />
      </div>
      <div className="case-bar-group case-bar-actions">
        {claimControls && <div className="case-bar-group case-bar-claim">{claimControls}</div>}
        <div className="case-bar-group case-bar-nav">
          <NeighbourButtons neighbours={neighbours} />
          <button type="button" onClick={onHelp} aria-haspopup="dialog" aria-label="Keyboard shortcuts">
            Shortcuts <kbd aria-hidden="true">?</kbd>
          </button>
        </div>
      </div>
    </div>
  );
}

/** Previous / next case in the worklist the reader came from. */
function NeighbourButtons({ neighbours }: { neighbours: CaseNeighbours }) {
  return (
    <>
      <button type="button" disabled={!neighbours.hasPrev} aria-busy={neighbours.busy} onClick={() => neighbours.step(-1)}>
        Previous case
      </button>
      <button type="button" disabled={!neighbours.hasNext} aria-busy={neighbours.busy} onClick={() => neighbours.step(1)}>
        Next case
      </button>
    </>
  );
}

/** The case could not be loaded: "not found" for an id the server has no case for (404) or refuses (422). */
export function CaseLoadError({
  error,
  onRetry,
  backTo,
  neighbours,
}: {
  error: unknown;
  onRetry: () => void;
  backTo: string;
  /** the worklist around the case: a reader stepping through it lands here when a case was deleted meanwhile */
  neighbours?: CaseNeighbours;
}) {
  const status = error instanceof ApiError ? error.status : 0;
  const notFound = status === 404 || status === 422;
  // the server says when a case was deleted on purpose (by a coordinator, or at the end of the retention period)
  const deletedAt = notFound && error instanceof ApiError ? (error.body as { deleted_at?: unknown } | null)?.deleted_at : undefined;
  const deleted = typeof deletedAt === 'string';
  // asking again helps only when the server could not be reached or failed, not when it refused the request
  const retryable = status === 0 || status >= 500;
  return (
    <main className="page narrow">
      <h1>{deleted ? 'Case deleted' : notFound ? 'Case not found' : 'Could not load the case'}</h1>
      <p role="alert">{deleted ? withLocalDeletionTime(errorMessage(error), deletedAt) : errorMessage(error)}</p>
      {retryable && (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      )}
      <p className="row-gap">
        <Link to={backTo}>Back to worklist</Link>
        {neighbours && (neighbours.hasPrev || neighbours.hasNext) && <NeighbourButtons neighbours={neighbours} />}
      </p>
    </main>
  );
}
