import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { api } from '../api/client';
import { errorMessage } from '../api/errors';
import type { AuditEvent } from '../api/types';
import { useMe } from '../api/queries';
import { hasRole } from '../auth/session';
import { CASE_PAGE, mayOpen } from '../auth/pages';
import { pageFromParam } from '../lib/apiBounds';
import { formatDateTime } from '../lib/format';
import { csvLines, downloadText } from '../lib/csv';
import { instantForUrl, windowError } from '../lib/auditWindow';
import {
  AUDIT_PAGE_SIZE,
  auditFormFromParams,
  auditParamsFromForm,
  auditQueryFromParams,
  caseIdError,
  EMPTY_AUDIT_FILTERS,
} from '../lib/auditFilters';
import { useAddressForm } from '../lib/useAddressForm';
import { ApiDownloadLink } from '../components/ApiDownloadLink';
import { lastPageInstead, pageCount } from '../lib/pagination';

const PAGE_SIZE = AUDIT_PAGE_SIZE;
/** The API's largest audit page: the export asks for pages of this size until it has every matching event. */
const EXPORT_PAGE_SIZE = 500;

export { auditQueryFromParams, caseIdError };

function detailValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The detail as "key: value" pairs, a user id given as its username ("user: alice"; the server resolves them in
 * detail_usernames); a user id that names no user any more stays an id. */
export function detailText(e: Pick<AuditEvent, 'detail' | 'detail_usernames'>): string {
  const names = e.detail_usernames ?? {};
  return Object.entries(e.detail ?? {})
    .map(([k, v]) => (k in names ? `${k.replace(/_id$/, '')}: ${names[k]}` : `${k}: ${detailValue(v)}`))
    .join(' · ');
}

/** The trail as the page shows it: the case's label and the usernames behind the detail's user ids beside the
 * stored ids (an auditor's spreadsheet should not need the Users page to be read). */
const AUDIT_CSV_HEADER = ['id', 'at', 'actor', 'action', 'case_id', 'case_label', 'client_ip', 'detail', 'detail_usernames'];

function auditCsvRows(events: AuditEvent[]): string {
  return csvLines(
    events.map((e) => [
      e.id,
      e.at,
      e.actor,
      e.action,
      e.case_id,
      e.case_label ?? null,
      e.client_ip,
      e.detail,
      e.detail_usernames && Object.keys(e.detail_usernames).length ? e.detail_usernames : null,
    ]),
  );
}

export function auditCsv(events: AuditEvent[]): string {
  return csvLines([AUDIT_CSV_HEADER]) + auditCsvRows(events);
}

/**
 * The CSV of every event matching the filters in ``params``, newest first: pages of the API's largest size
 * until the server's total is reached (an audit export that silently stopped short would mislead the auditor).
 * Each page becomes CSV text at once, so a long trail is not held as objects. The trail grows while it is read:
 * newer events push older ones onto later pages, so an event already written is skipped by its id.
 */
export async function auditCsvOfAll(
  params: URLSearchParams,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<{ csv: string; rows: number }> {
  const written = new Set<number>();
  const parts = [csvLines([AUDIT_CSV_HEADER])];
  for (let pg = 1; ; pg++) {
    const res = await api.audit(auditQueryFromParams(params, pg, EXPORT_PAGE_SIZE));
    const fresh = res.items.filter((e) => !written.has(e.id));
    for (const e of fresh) written.add(e.id);
    parts.push(auditCsvRows(fresh));
    onProgress(written.size, res.total);
    if (res.items.length === 0 || written.size >= res.total || pg * EXPORT_PAGE_SIZE >= res.total) break;
  }
  return { csv: parts.join(''), rows: written.size };
}

export default function AuditPage() {
  const [params, setParams] = useSearchParams();
  const me = useMe();
  const page = pageFromParam(params.get('page'));
  const query = auditQueryFromParams(params, page);
  // a link with a bad case id lists nothing rather than every event: the field says why
  const linkCaseIdError = caseIdError(params.get('case_id'));
  const events = useQuery({
    queryKey: ['audit', query],
    queryFn: ({ signal }) => api.audit(query, signal),
    placeholderData: (prev) => prev,
    enabled: !linkCaseIdError,
  });
  const [caseIdProblem, setCaseIdProblem] = useState<string | null>(linkCaseIdError);
  const [filterError, setFilterError] = useState<string | null>(null);
  // Back / Forward or the Audit link: the fields show the filters listed, and their errors go with what they said
  const { form, setForm, writingAddress } = useAddressForm(params, auditFormFromParams, (now) => {
    setCaseIdProblem(caseIdError(now.get('case_id')));
    setFilterError(null);
  });
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  const [exportProgress, setExportProgress] = useState('');
  // an admin without a reading role may not open a case: the id is plain text for them, not a dead link
  const mayOpenCases = mayOpen(me.data, CASE_PAGE);

  useEffect(() => {
    document.title = 'Audit · NeuroTriage';
  }, []);

  function apply(e: FormEvent) {
    e.preventDefault();
    const badCaseId = caseIdError(form.case_id);
    setCaseIdProblem(badCaseId);
    const badWindow = windowError(instantForUrl(form.since), instantForUrl(form.until));
    setFilterError(badWindow);
    if (badWindow || badCaseId) return;
    const p = auditParamsFromForm(form);
    writingAddress(p);
    setParams(p, { replace: true });
  }

  async function exportCsv() {
    // the export reads the address's filters: with its case id refused it would hold every event, and with the
    // form's filters refused it would hold the events of other filters than those in view
    const refused = linkCaseIdError ?? caseIdProblem ?? filterError;
    if (refused) {
      setExportError(refused);
      return;
    }
    setExporting(true);
    setExportError(null);
    try {
      const { csv } = await auditCsvOfAll(params, (done, total) =>
        setExportProgress(`Fetched ${done.toLocaleString('en-GB')} of ${total.toLocaleString('en-GB')} events…`),
      );
      downloadText(csv, `neurotriage-audit-${new Date().toISOString().slice(0, 10)}.csv`);
    } catch (err) {
      setExportError(errorMessage(err));
    } finally {
      setExporting(false);
      setExportProgress('');
    }
  }

  // a refused filter lists nothing: the rows of the filters still applied would pass for its result
  const caseIdRefused = 'No events listed: correct the Case ID and apply the filters.';
  const refusal = caseIdProblem
    ? caseIdRefused
    : filterError
      ? 'No events listed: correct From and To and apply the filters.'
      : linkCaseIdError && caseIdRefused;
  const data = refusal ? undefined : events.data;
  const pages = data ? pageCount(data.total, data.page_size || PAGE_SIZE) : 1;
  const goto = (n: number) => {
    const p = new URLSearchParams(params);
    if (n > 1) p.set('page', String(n));
    else p.delete('page');
    writingAddress(p);
    setParams(p, { replace: true });
  };
  // past the last page (an old shared link): the last page, as the worklist does
  const lastPage = data && !events.isPlaceholderData ? lastPageInstead(page, data, PAGE_SIZE) : null;
  useEffect(() => {
    if (lastPage) goto(lastPage);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lastPage]);

  return (
    <main className="page" aria-labelledby="audit-title">
      <div className="page-title-row">
        <h1 id="audit-title">Audit trail</h1>
        {data && <span className="muted">{data.total} events</span>}
      </div>
      <section className="panel" aria-label="Filters">
        <form className="filters" onSubmit={apply}>
          <label className="field">
            <span>User</span>
            <input
              value={form.username}
              placeholder="part of the name, e.g. cli"
              title="Who did it: any part of the username, upper or lower case"
              onChange={(e) => setForm({ ...form, username: e.target.value })}
            />
          </label>
          <div className="field-with-error">
            <label className="field field-small">
              <span>Case ID</span>
              <input
                inputMode="numeric"
                value={form.case_id}
                aria-invalid={caseIdProblem ? true : undefined}
                aria-describedby={caseIdProblem ? 'audit-case-id-error' : undefined}
                onChange={(e) => {
                  setForm({ ...form, case_id: e.target.value });
                  setCaseIdProblem(null);
                }}
              />
            </label>
            {caseIdProblem && (
              <span id="audit-case-id-error" className="error-text small" role="alert">
                {caseIdProblem}
              </span>
            )}
          </div>
          <label className="field">
            <span>Action</span>
            <input
              value={form.action}
              placeholder="start, e.g. flag. or case.verdict"
              title="The start of the action: flag. finds every flag event, case.verdict that one"
              onChange={(e) => setForm({ ...form, action: e.target.value })}
            />
          </label>
          <label className="field">
            <span>From</span>
            <input
              type="datetime-local"
              value={form.since}
              onChange={(e) => {
                setForm({ ...form, since: e.target.value });
                setFilterError(null);
              }}
            />
          </label>
          <label className="field">
            <span>To</span>
            <input
              type="datetime-local"
              value={form.until}
              title="To the end of this minute: From and To at the same minute list the events of that minute"
              onChange={(e) => {
                setForm({ ...form, until: e.target.value });
                setFilterError(null);
              }}
            />
          </label>
          <button type="submit" className="primary">
            Apply filters
          </button>
          <button
            type="button"
            onClick={() => {
              setForm(EMPTY_AUDIT_FILTERS);
              setCaseIdProblem(null);
              setFilterError(null);
              writingAddress(new URLSearchParams());
              setParams(new URLSearchParams(), { replace: true });
            }}
          >
            Clear filters
          </button>
          <span className="spacer" />
          <button
            type="button"
            onClick={() => !exporting && void exportCsv()}
            aria-disabled={exporting || undefined}
            aria-busy={exporting}
          >
            Download audit CSV
          </button>
          {exportProgress && <span className="muted small">{exportProgress}</span>}
          {hasRole(me.data, 'coordinator') && (
            <ApiDownloadLink
              href="/api/export.csv"
              fallbackName="neurotriage-export.csv"
              onError={(err) => setExportError(err == null ? null : errorMessage(err))}
            >
              Export cases CSV
            </ApiDownloadLink>
          )}
        </form>
        {filterError && (
          <div className="error-box" role="alert">
            {filterError}
          </div>
        )}
        {exportError && (
          <div className="error-box" role="alert">
            Export failed: {exportError}
          </div>
        )}
      </section>

      <section className="panel" aria-label="Events">
        {events.isError && !refusal && (
          <div className="error-box" role="alert">
            Could not load the audit trail: {errorMessage(events.error)}
          </div>
        )}
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">User</th>
              <th scope="col">Action</th>
              <th scope="col">Case</th>
              <th scope="col">Detail</th>
              <th scope="col">IP</th>
            </tr>
          </thead>
          <tbody>
            {refusal && (
              <tr>
                <td colSpan={6} className="muted">
                  {refusal}
                </td>
              </tr>
            )}
            {events.isPending && !refusal && (
              <tr>
                <td colSpan={6} className="muted">
                  Loading…
                </td>
              </tr>
            )}
            {data?.items.length === 0 && (
              <tr>
                <td colSpan={6} className="muted">
                  No events match.
                </td>
              </tr>
            )}
            {data?.items.map((e) => (
              <tr key={e.id} data-audit-id={e.id} data-action={e.action}>
                <td className="nowrap">{formatDateTime(e.at)}</td>
                <td>{e.actor ?? '—'}</td>
                <td className="mono">{e.action}</td>
                <td>
                  {e.case_id != null ? (
                    <>
                      {mayOpenCases ? <Link to={`/cases/${e.case_id}`}>{e.case_id}</Link> : <span>{e.case_id}</span>}
                      {e.case_label && <span className="muted"> {e.case_label}</span>}
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td className="detail-cell" title={Object.keys(e.detail ?? {}).length ? JSON.stringify(e.detail) : undefined}>
                  {detailText(e)}
                </td>
                <td className="mono small">{e.client_ip ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {data && pages > 1 && (
          <nav className="pager" aria-label="Pagination">
            <button type="button" disabled={page <= 1} onClick={() => goto(page - 1)}>
              Previous page
            </button>
            <span>
              Page {page} of {pages}
            </span>
            <button type="button" disabled={page >= pages} onClick={() => goto(page + 1)}>
              Next page
            </button>
          </nav>
        )}
      </section>
    </main>
  );
}
