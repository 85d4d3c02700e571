// The audit trail's filters: the form's fields, the address that holds them, and the query sent to the API.
import type { AuditQuery } from '../api/types';
import { isDbId } from './apiBounds';
import { instantForUrl, localInputValue, localToIso, untilForApi } from './auditWindow';

/** Events per page of the Audit page. */
export const AUDIT_PAGE_SIZE = 50;

const FIELDS = ['username', 'case_id', 'action', 'since', 'until'] as const;
export type AuditFilterField = (typeof FIELDS)[number];
export type AuditFilterForm = Record<AuditFilterField, string>;

export const EMPTY_AUDIT_FILTERS: AuditFilterForm = { username: '', case_id: '', action: '', since: '', until: '' };

/** Why the Case ID filter cannot be used, or null: an id that is no case's would otherwise be dropped silently
 * and every event shown, as if the filter had matched. */
export function caseIdError(v: string | null): string | null {
  const id = (v ?? '').trim();
  if (!id || (/^\d+$/.test(id) && isDbId(Number(id)))) return null;
  return `“${id}” is not a case ID: case IDs are whole numbers, such as 42.`;
}

/** The form's fields as the address holds them: From / To as instants, the rest as typed. */
export function auditFormFromParams(p: URLSearchParams): AuditFilterForm {
  const form = Object.fromEntries(FIELDS.map((f) => [f, p.get(f) ?? ''])) as AuditFilterForm;
  form.since = localInputValue(p.get('since'));
  form.until = localInputValue(p.get('until'));
  return form;
}

/** The address of the filters in ``form`` (From / To as instants in UTC: see instantForUrl). */
export function auditParamsFromForm(form: AuditFilterForm): URLSearchParams {
  const p = new URLSearchParams();
  for (const f of ['username', 'case_id', 'action'] as const) if (form[f].trim()) p.set(f, form[f].trim());
  const since = instantForUrl(form.since);
  const until = instantForUrl(form.until);
  if (since) p.set('since', since);
  if (until) p.set('until', until);
  return p;
}

export function auditQueryFromParams(p: URLSearchParams, page: number, pageSize = AUDIT_PAGE_SIZE): AuditQuery {
  const q: AuditQuery = { page, page_size: pageSize };
  const user = p.get('username')?.trim();
  if (user) q.username = user;
  const caseId = Number(p.get('case_id'));
  if (isDbId(caseId)) q.case_id = caseId;
  const action = p.get('action')?.trim();
  if (action) q.action = action;
  const since = localToIso(p.get('since') ?? '');
  if (since) q.since = since;
  const until = localToIso(p.get('until') ?? '');
  if (until) q.until = untilForApi(until);
  return q;
}
