import { errorMessage } from '../api/errors';

/** A panel's "Loading…" while its query is pending, and what failed if it did. */
export function QueryState({
  query,
  what,
}: {
  query: { isPending: boolean; isError: boolean; error: unknown };
  /** what the panel loads, for "Could not load the workers: …" */
  what: string;
}) {
  return (
    <>
      {query.isPending && <p className="muted">Loading…</p>}
      {query.isError && (
        <div className="error-box" role="alert">
          Could not load {what}: {errorMessage(query.error)}
        </div>
      )}
    </>
  );
}
