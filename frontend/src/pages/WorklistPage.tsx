import { useEffect, useRef, useState } from 'react';
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router-dom';
import { useCases, useMe } from '../api/queries';
import { errorMessage } from '../api/errors';
import type { CaseSummary, JobStatus, ListCasesQuery } from '../api/types';
import { hasRole } from '../auth/session';
import { UploadForm } from '../components/UploadForm';
import type { WorklistNotice } from '../components/DeleteCasePanel';
import { isChecksOnly } from '../components/ChecksOnlyNotice';
import { StatusCell, TriageChips } from '../components/StatusCell';
import { anyActive, formatDateTime, formatScore, hasResult } from '../lib/format';
import { rememberWorklist, WORKLIST_PAGE_SIZE } from '../lib/worklistMemory';
import { pageFromParam } from '../lib/apiBounds';
import { useDwellPrefetch } from '../lib/useDwellPrefetch';
import { useAddressForm } from '../lib/useAddressForm';
import { lastPageInstead, pageCount } from '../lib/pagination';

const PAGE_SIZE = WORKLIST_PAGE_SIZE;
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
// Most pressing first, as the worklist sorts them.
const TRIAGES = ['urgent', 'rescan', 'review', 'routine'] as const;
type Triage = (typeof TRIAGES)[number];
const SCREENINGS = ['lesions', 'checks'] as const;
type Screening = (typeof SCREENINGS)[number];
const SORTS = { priority: 'Triage priority', score: 'Score', uploaded_at: 'Upload time' } as const;
type Sort = keyof typeof SORTS;

const REVIEW_TEXT: Record<CaseSummary['review_state'], string> = {
  unreviewed: 'Unreviewed',
  in_progress: 'In progress',
  reviewed: 'Reviewed',
};

/**
 * The Review column. A clinician reads it as "have I read this": reads are blind, so a case that a colleague has
 * read still waits for their own read, and says so; coordinators see whether anyone has.
 */
export function reviewText(c: CaseSummary, asReader: boolean): string {
  if (!hasResult(c)) return '—';
  // the API says so only where the viewer may know it (a blind reader: once their own case verdict is in)
  const disputed = c.readers_disagree ? ' · readers disagree' : '';
  if (!asReader || c.review_state === 'unreviewed') return REVIEW_TEXT[c.review_state] + disputed;
  if (c.my_review_state === 'reviewed') return 'Read by you' + disputed;
  if (c.my_review_state === 'in_progress') return 'In progress (you)';
  return c.review_state === 'reviewed' ? 'Read by others, not you' : 'In progress (others)';
}

/** The list query from the address bar, so filters survive reloads and can be linked. */
export function queryFromParams(params: URLSearchParams): ListCasesQuery {
  // a page the API would refuse (2.5, 0, 1e10) is not sent: the address names page 1 (or the last page it takes)
  const q: ListCasesQuery = { page: pageFromParam(params.get('page')), page_size: PAGE_SIZE };
  const status = params.get('status');
  if (status && (STATUSES as readonly string[]).includes(status)) q.status = status as JobStatus;
  const triage = params.get('triage');
  if (triage && (TRIAGES as readonly string[]).includes(triage)) q.triage = triage as Triage;
  if (params.get('flagged') === '1') q.flagged = true;
  const screening = params.get('screening');
  if (screening && (SCREENINGS as readonly string[]).includes(screening)) q.screening = screening as Screening;
  if (params.get('mine') === '1') q.mine = true;
  if (params.get('unreviewed') === '1') q.unreviewed = true;
  if (params.get('unread') === '1') q.unread_by_me = true;
  if (params.get('disputed') === '1') q.disputed = true;
  const text = params.get('q')?.trim();
  if (text) q.q = text.slice(0, 200);
  const sort = params.get('sort');
  if (sort && sort in SORTS && sort !== 'priority') q.sort = sort as Sort;
  if (params.get('order') === 'asc') q.order = 'asc';
  return q;
}

const searchFromParams = (params: URLSearchParams) => params.get('q') ?? '';

export function WorklistPage() {
  const [params, setParams] = useSearchParams();
  const me = useMe();
  // what the page that sent the reader here had to say (a deleted case), shown once: cleared from the history
  // entry at once, so that a reload or Back does not show it again, nor keeps the case label (free text) there
  const location = useLocation();
  const navigate = useNavigate();
  const [arrivalNotice] = useState(() => (location.state as WorklistNotice | null)?.notice ?? null);
  useEffect(() => {
    if (location.state) navigate({ pathname: location.pathname, search: location.search }, { replace: true, state: null });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const query = queryFromParams(params);
  const queryText = JSON.stringify(query);
  const cases = useCases(query);
  // the page as shown, for the case page's "Back to worklist" and "Previous / Next case" (rows of the previous
  // query, kept on screen while the new one loads, are not this query's)
  const shown = cases.data && !cases.isPlaceholderData ? cases.data : null;
  const shownIds = shown ? shown.items.map((c) => c.id).join(',') : '';
  const shownTotal = shown?.total ?? 0;
  const addressSearch = params.toString();
  useEffect(() => {
    rememberWorklist({
      search: addressSearch ? `?${addressSearch}` : '',
      query: JSON.parse(queryText) as ListCasesQuery,
      ids: shownIds ? shownIds.split(',').map(Number) : [],
      total: shownTotal,
    });
  }, [addressSearch, queryText, shownIds, shownTotal]);
  // Back / Forward or the Worklist link: the Search box shows the search listed
  const { form: search, setForm: setSearch, writingAddress } = useAddressForm(params, searchFromParams);
  const canUpload = hasRole(me.data, 'clinician', 'coordinator');
  const hover = useDwellPrefetch();
  const isClinician = hasRole(me.data, 'clinician');

  useEffect(() => {
    document.title = 'Worklist · NeuroTriage';
    // warm the viewer chunk (NiiVue) so opening a case does not wait for it
    const t = window.setTimeout(() => void import('./CasePage'), 300);
    return () => window.clearTimeout(t);
  }, []);

  // The address as it is now, not as it was when a callback's render ran: the delayed search below would
  // otherwise undo a filter changed while it waited. (react-router 6 hands setParams' updater the params of
  // the render that made it, so its functional form does not help.)
  const latestParams = useRef(params);
  latestParams.current = params;
  function update(next: Record<string, string | null>) {
    const p = new URLSearchParams(latestParams.current);
    for (const [k, v] of Object.entries(next)) {
      if (v) p.set(k, v);
      else p.delete(k);
    }
    if (!('page' in next)) p.delete('page');
    writingAddress(p);
    setParams(p, { replace: true });
  }

  // search as you type, without a request per key
  useEffect(() => {
    const current = params.get('q') ?? '';
    if (search.trim() === current) return;
    const t = window.setTimeout(() => update({ q: search.trim() || null }), 300);
    return () => window.clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [search]);

  const data = cases.data;
  const page = query.page ?? 1;
  const pages = data ? pageCount(data.total, data.page_size || PAGE_SIZE) : 1;
  // past the last page (an old link, or "Unreviewed only" emptying the last page as cases are read): the last
  // page, whose cases are the nearest to where the reader was; replaced, so Back does not return to the empty one
  const goToPage = shown ? lastPageInstead(page, shown, PAGE_SIZE) : null;
  useEffect(() => {
    if (goToPage) update({ page: goToPage > 1 ? String(goToPage) : null });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [goToPage]);

  return (
    <main className="page" aria-labelledby="worklist-title">
      <div className="page-title-row">
        <h1 id="worklist-title">Worklist</h1>
        {data && (
          <span className="muted">
            {data.total} case{data.total === 1 ? '' : 's'}
            {anyActive(data.items) ? ' · updating' : ''}
          </span>
        )}
      </div>

      {arrivalNotice && (
        <div className="info-box" role="status">
          {arrivalNotice}
        </div>
      )}
      {canUpload && me.data && <UploadForm user={me.data.username} />}

      <section className="panel" aria-labelledby="cases-title">
        {/* for screen readers' heading navigation: the table and its filters are the page's main part */}
        <h2 id="cases-title" className="sr-only">
          Cases
        </h2>
        <div className="toolbar" role="search" aria-label="Filter the cases">
          <label className="field-inline">
            <span>Search</span>
            <input
              type="search"
              value={search}
              placeholder="case label"
              onChange={(e) => setSearch(e.target.value)}
              maxLength={200}
            />
          </label>
          <FilterSelect
            label="Status"
            value={query.status}
            values={STATUSES}
            onChange={(status) => update({ status })}
          />
          <FilterSelect
            label="Triage"
            value={query.triage}
            values={TRIAGES}
            onChange={(triage) => update({ triage })}
          />
          <FilterCheck
            label="Flagged only"
            title="Cases whose result has at least one flag"
            checked={!!query.flagged}
            onChange={(on) => update({ flagged: on ? '1' : null })}
          />
          <FilterCheck
            label="Not screened for lesions"
            title="Rescan checks only: no model read the sequence, so no lesion search ran"
            checked={query.screening === 'checks'}
            onChange={(on) => update({ screening: on ? 'checks' : null })}
          />
          <FilterCheck
            label="Unreviewed only"
            checked={!!query.unreviewed}
            onChange={(on) => update({ unreviewed: on ? '1' : null })}
          />
          <FilterCheck
            label="Readers disagree"
            title="Cases whose readers gave different case verdicts (for a reader: of the cases they have read)"
            checked={!!query.disputed}
            onChange={(on) => update({ disputed: on ? '1' : null })}
          />
          {isClinician && (
            <FilterCheck
              label="Not read by me"
              title="Cases without your own case verdict, whoever else has read them"
              checked={!!query.unread_by_me}
              onChange={(on) => update({ unread: on ? '1' : null })}
            />
          )}
          {isClinician && (
            <FilterCheck label="Claimed by me" checked={!!query.mine} onChange={(on) => update({ mine: on ? '1' : null })} />
          )}
          <label className="field-inline">
            <span>Sort by</span>
            <select value={query.sort ?? 'priority'} onChange={(e) => update({ sort: e.target.value === 'priority' ? null : e.target.value })}>
              {Object.entries(SORTS).map(([k, v]) => (
                <option key={k} value={k}>
                  {v}
                </option>
              ))}
            </select>
          </label>
          <label className="field-inline">
            <span>Order</span>
            <select value={query.order ?? 'desc'} onChange={(e) => update({ order: e.target.value === 'asc' ? 'asc' : null })}>
              <option value="desc">descending</option>
              <option value="asc">ascending</option>
            </select>
          </label>
          {cases.isFetching && <span className="muted small">refreshing…</span>}
        </div>

        {cases.isError && (
          <div className="error-box" role="alert">
            Could not load cases: {errorMessage(cases.error)}{' '}
            <button type="button" onClick={() => void cases.refetch()}>
              Retry
            </button>
          </div>
        )}

        {/* a narrow window scrolls the table sideways rather than cut its last columns; focusable, so the
            keyboard scrolls it too */}
        <div className="table-scroll" role="region" aria-label="Cases table" tabIndex={0}>
          <table className="grid worklist">
            <thead>
              <tr>
                <th scope="col">Label</th>
                <th scope="col">Uploaded</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Score
                </th>
                <th scope="col" className="num">
                  Flags
                </th>
                <th scope="col">Review</th>
                <th scope="col">Claimed by</th>
              </tr>
            </thead>
            <tbody>
              {cases.isPending && (
                <tr>
                  <td colSpan={7} className="muted">
                    Loading cases…
                  </td>
                </tr>
              )}
              {data && data.items.length === 0 && !goToPage && (
                <tr>
                  <td colSpan={7} className="muted">
                    No cases match.
                  </td>
                </tr>
              )}
              {data?.items.map((c) => (
                <tr key={c.id} data-case-id={c.id} data-status={c.status}>
                  <td>
                    <Link
                      to={`/cases/${c.id}`}
                      onMouseEnter={() => hasResult(c) && hover.start(c.id, isChecksOnly(c))}
                      onMouseLeave={hover.cancel}
                      onFocus={() => hasResult(c) && hover.start(c.id, isChecksOnly(c))}
                      onBlur={hover.cancel}
                    >
                      {c.label}
                    </Link>
                    <span className="muted small seq">{c.sequence}</span>
                  </td>
                  <td className="nowrap">{formatDateTime(c.uploaded_at)}</td>
                  <td>
                    <StatusCell c={c} />
                  </td>
                  <td className="num nowrap">
                    {formatScore(c.score)} <TriageChips c={c} />
                  </td>
                  {/* a checks-only result has no flag count: no lesion search ran */}
                  <td className="num">{hasResult(c) && !isChecksOnly(c) ? c.flag_count : '—'}</td>
                  <td>{reviewText(c, isClinician)}</td>
                  <td className="muted">{c.claimed_by ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>

        {data && pages > 1 && (
          <nav className="pager" aria-label="Pagination">
            <button type="button" disabled={page <= 1} onClick={() => update({ page: String(page - 1) })}>
              Previous page
            </button>
            <span>
              Page {page} of {pages}
            </span>
            <button type="button" disabled={page >= pages} onClick={() => update({ page: String(page + 1) })}>
              Next page
            </button>
          </nav>
        )}
      </section>
    </main>
  );
}

/** One of the worklist's single-value filters: "All" (null) or one of ``values``. */
function FilterSelect({
  label,
  value,
  values,
  onChange,
}: {
  label: string;
  value: string | null | undefined;
  values: readonly string[];
  onChange: (value: string | null) => void;
}) {
  return (
    <label className="field-inline">
      <span>{label}</span>
      <select value={value ?? ''} onChange={(e) => onChange(e.target.value || null)}>
        <option value="">All</option>
        {values.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    </label>
  );
}

/** One on/off filter of the worklist, its state in the address. */
function FilterCheck({
  label,
  title,
  checked,
  onChange,
}: {
  label: string;
  title?: string;
  checked: boolean;
  onChange: (on: boolean) => void;
}) {
  return (
    <label className="check" title={title}>
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <span>{label}</span>
    </label>
  );
}
