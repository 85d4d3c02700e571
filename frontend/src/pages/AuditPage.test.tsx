import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Link, useNavigate } from 'react-router-dom';
import { renderAt } from '../test/render';
import { api, setUnauthorizedHandler } from '../api/client';
import type { AuditEvent } from '../api/types';
import AuditPage, { detailText } from './AuditPage';
import * as csv from '../lib/csv';
import * as download from '../lib/download';
import { inTimeZone } from '../test/timeZone';

const event = (over: Partial<AuditEvent>): AuditEvent => ({
  id: 1,
  at: '2026-01-01T10:00:00Z',
  actor: 'root',
  action: 'user.created',
  case_id: null,
  case_label: null,
  client_ip: '10.0.0.1',
  detail: {},
  detail_usernames: {},
  ...over,
});

beforeEach(() => {
  vi.spyOn(api, 'me').mockResolvedValue({ id: 1, username: 'root', roles: ['admin', 'coordinator'], password_change_required: false });
});
afterEach(() => vi.restoreAllMocks());

describe('detailText', () => {
  it('names users by username and shows the rest as key: value', () => {
    expect(
      detailText(
        event({
          detail: { user_id: 5, before: ['clinician'], after: ['clinician', 'coordinator'] },
          detail_usernames: { user_id: 'alice' },
        }),
      ),
    ).toBe('user: alice · before: ["clinician"] · after: ["clinician","coordinator"]');
    // a user id without a username (the user is gone) stays an id; other ids are never names
    expect(detailText(event({ detail: { user_id: 9, kind: 'scan', job_id: 3 } }))).toBe('user_id: 9 · kind: scan · job_id: 3');
    expect(detailText(event({ detail: {}, detail_usernames: undefined }))).toBe('');
  });
});

describe('AuditPage', () => {
  it('shows usernames instead of user ids, and the case label beside the case id', async () => {
    vi.spyOn(api, 'audit').mockResolvedValue({
      items: [
        event({ id: 11, action: 'user.disabled', detail: { user_id: 5 }, detail_usernames: { user_id: 'alice' } }),
        event({ id: 12, action: 'user.password_reset', detail: { user_id: 5, tokens_revoked: 2 }, detail_usernames: { user_id: 'alice' } }),
        event({ id: 13, actor: 'clin', action: 'case.viewed', case_id: 7, case_label: 'left temporal' }),
        // the case no longer exists (or the reader may not read cases): the id alone
        event({ id: 14, actor: 'clin', action: 'case.viewed', case_id: 8, case_label: null }),
      ],
      total: 4,
      page: 1,
      page_size: 50,
    });
    renderAt(<AuditPage />, { path: '/audit' });
    const disabled = (await screen.findByText('user: alice')).closest('tr')!;
    expect(disabled).toHaveAttribute('data-action', 'user.disabled');
    expect(disabled).not.toHaveTextContent('user_id');
    const reset = document.querySelector('[data-audit-id="12"]')!;
    expect(reset).toHaveTextContent('user: alice · tokens_revoked: 2');
    // the raw record is still there on hover
    expect(within(reset as HTMLElement).getByText(/user: alice/)).toHaveAttribute('title', '{"user_id":5,"tokens_revoked":2}');

    const viewed = document.querySelector('[data-audit-id="13"]') as HTMLElement;
    const caseCell = within(viewed).getByRole('link', { name: '7' }).closest('td')!;
    expect(within(viewed).getByRole('link', { name: '7' })).toHaveAttribute('href', '/cases/7');
    expect(caseCell).toHaveTextContent('7 left temporal');
    const gone = document.querySelector('[data-audit-id="14"]') as HTMLElement;
    expect(within(gone).getByRole('link', { name: '8' }).closest('td')).toHaveTextContent(/^8$/);
  });

  it('says what the User and Action filters match and sends what was typed', async () => {
    const audit = vi.spyOn(api, 'audit').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 50 });
    renderAt(<AuditPage />, { path: '/audit' });
    expect(await screen.findByText('No events match.')).toBeInTheDocument();
    const user = screen.getByLabelText('User');
    const action = screen.getByLabelText('Action');
    expect(user).toHaveAttribute('placeholder', expect.stringMatching(/part of the name/));
    expect(action).toHaveAttribute('placeholder', expect.stringMatching(/^start/));
    await userEvent.type(user, 'cli');
    await userEvent.type(action, 'flag.');
    await userEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    await waitFor(() =>
      expect(audit).toHaveBeenLastCalledWith({ page: 1, page_size: 50, username: 'cli', action: 'flag.' }, expect.anything()),
    );
    expect(screen.getByTestId('location')).toHaveTextContent('/audit?username=cli&action=flag.');
  });

  it('says a time window that ends before it starts is empty, instead of showing 0 events', async () => {
    const audit = vi.spyOn(api, 'audit').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 50 });
    renderAt(<AuditPage />, { path: '/audit' });
    await screen.findByText('No events match.');
    const calls = audit.mock.calls.length;
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-12-05T10:00' } });
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2026-12-04T10:00' } });
    await userEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    expect(screen.getByRole('alert')).toHaveTextContent('“From” must not be after “To”');
    expect(audit).toHaveBeenCalledTimes(calls);
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/audit$/);
  });

  it('takes From = To as that one minute: To reaches the end of its minute, in the address as shown', async () => {
    const audit = vi.spyOn(api, 'audit').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 50 });
    renderAt(<AuditPage />, { path: '/audit' });
    await screen.findByText('No events match.');
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-12-05T06:44' } });
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2026-12-05T06:44' } });
    await userEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    const at = new Date('2026-12-05T06:44').getTime();
    const iso = (ms: number) => new Date(ms).toISOString();
    await waitFor(() =>
      expect(audit).toHaveBeenLastCalledWith({ page: 1, page_size: 50, since: iso(at), until: iso(at + 60_000) }, expect.anything()),
    );
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    const address = new URLSearchParams(screen.getByTestId('location').textContent!.split('?')[1]);
    expect(address.get('since')).toBe(iso(at).replace('.000Z', 'Z'));
    expect(address.get('until')).toBe(address.get('since'));
    expect(screen.getByLabelText('To')).toHaveValue('2026-12-05T06:44');
  });

  it('lists no events while a filter is refused, rather than those of the filters still applied', async () => {
    vi.spyOn(api, 'audit').mockResolvedValue({ items: [event({ id: 21 }), event({ id: 22 })], total: 2, page: 1, page_size: 50 });
    renderAt(<AuditPage />, { path: '/audit' });
    await waitFor(() => expect(document.querySelectorAll('[data-audit-id]')).toHaveLength(2));
    expect(screen.getByText('2 events')).toBeInTheDocument();
    const events = screen.getByRole('region', { name: 'Events' });

    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-12-05T10:01' } });
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2026-12-05T10:00' } });
    await userEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    expect(screen.getByRole('alert')).toHaveTextContent('“From” must not be after “To”');
    expect(events.querySelectorAll('[data-audit-id]')).toHaveLength(0);
    expect(events).toHaveTextContent('No events listed: correct From and To and apply the filters.');
    expect(screen.queryByText('2 events')).not.toBeInTheDocument();
    // nor does the export hand over the events of the other filters
    const download = vi.spyOn(csv, 'downloadText').mockImplementation(() => undefined);
    await userEvent.click(screen.getByRole('button', { name: 'Download audit CSV' }));
    expect(download).not.toHaveBeenCalled();
    expect(screen.getByText(/^Export failed:/)).toHaveTextContent('“From” must not be after “To”');

    // a refused case id too
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '' } });
    await userEvent.type(screen.getByLabelText('Case ID'), 'abc');
    await userEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    expect(events.querySelectorAll('[data-audit-id]')).toHaveLength(0);
    expect(events).toHaveTextContent('No events listed: correct the Case ID and apply the filters.');

    // corrected, the rows come back
    await userEvent.clear(screen.getByLabelText('Case ID'));
    await userEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    await waitFor(() => expect(events.querySelectorAll('[data-audit-id]')).toHaveLength(2));
    expect(events).not.toHaveTextContent('No events listed');
  });
});

/** The audit API over ``events`` (newest first), paged as the server pages them. */
function auditOver(events: () => AuditEvent[]) {
  return vi.spyOn(api, 'audit').mockImplementation(async (q) => {
    const all = events();
    const size = q.page_size ?? 50;
    const start = ((q.page ?? 1) - 1) * size;
    return { items: all.slice(start, start + size), total: all.length, page: q.page ?? 1, page_size: size };
  });
}

const csvRows = (text: string) => text.trim().split('\r\n').slice(1);

describe('AuditPage, Download audit CSV', () => {
  it('exports every matching event, however many pages it takes', async () => {
    const trail = Array.from({ length: 30_000 }, (_, i) => event({ id: 30_000 - i }));
    const audit = auditOver(() => trail);
    const download = vi.spyOn(csv, 'downloadText').mockImplementation(() => undefined);
    renderAt(<AuditPage />, { path: '/audit?action=case.' });
    await userEvent.click(await screen.findByRole('button', { name: 'Download audit CSV' }));
    await waitFor(() => expect(download).toHaveBeenCalled());
    const rows = csvRows(download.mock.calls[0][0]);
    expect(rows).toHaveLength(30_000);
    expect(rows[29_999]).toMatch(/^1,/);
    expect(audit).toHaveBeenCalledWith(expect.objectContaining({ action: 'case.', page: 60, page_size: 500 }));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('writes each event once when new ones arrive during the export and push the others down a page', async () => {
    let trail = Array.from({ length: 1200 }, (_, i) => event({ id: 1200 - i }));
    const audit = auditOver(() => trail);
    audit.mockImplementationOnce(async (q) => {
      const first = { items: trail.slice(0, 500), total: trail.length, page: 1, page_size: q.page_size ?? 500 };
      trail = [event({ id: 1202 }), event({ id: 1201 }), ...trail];
      return first;
    });
    const download = vi.spyOn(csv, 'downloadText').mockImplementation(() => undefined);
    renderAt(<AuditPage />, { path: '/audit' });
    await userEvent.click(await screen.findByRole('button', { name: 'Download audit CSV' }));
    await waitFor(() => expect(download).toHaveBeenCalled());
    const ids = csvRows(download.mock.calls[0][0]).map((r) => Number(r.split(',')[0]));
    expect(new Set(ids).size).toBe(ids.length);
    // every event there was when the export began
    expect(ids.filter((id) => id <= 1200)).toHaveLength(1200);
  });
});

describe('AuditPage, case ids', () => {
  it('links a case id only for users who may open cases; for an admin alone it is plain text', async () => {
    vi.mocked(api.me).mockResolvedValue({ id: 1, username: 'root', roles: ['admin'], password_change_required: false });
    vi.spyOn(api, 'audit').mockResolvedValue({ items: [event({ id: 3, case_id: 7 })], total: 1, page: 1, page_size: 50 });
    renderAt(<AuditPage />, { path: '/audit' });
    const row = await screen.findByText('7');
    expect(row.closest('tr')).toHaveAttribute('data-audit-id', '3');
    expect(screen.queryByRole('link', { name: '7' })).not.toBeInTheDocument();
  });

  it('links it for a coordinator', async () => {
    vi.mocked(api.me).mockResolvedValue({ id: 2, username: 'coord', roles: ['coordinator'], password_change_required: false });
    vi.spyOn(api, 'audit').mockResolvedValue({ items: [event({ id: 3, case_id: 7 })], total: 1, page: 1, page_size: 50 });
    renderAt(<AuditPage />, { path: '/audit' });
    expect(await screen.findByRole('link', { name: '7' })).toHaveAttribute('href', '/cases/7');
  });
});

describe('AuditPage, Case ID filter', () => {
  it('refuses a case id that is not a number, next to the field, and does not run the query', async () => {
    const audit = vi.spyOn(api, 'audit').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 50 });
    renderAt(<AuditPage />, { path: '/audit?action=flag.' });
    await screen.findByText('No events match.');
    const calls = audit.mock.calls.length;
    const field = screen.getByLabelText('Case ID');
    await userEvent.type(field, 'abc');
    await userEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    expect(field).toHaveValue('abc');
    expect(field).toHaveAttribute('aria-invalid', 'true');
    expect(field).toHaveAccessibleDescription('“abc” is not a case ID: case IDs are whole numbers, such as 42.');
    expect(audit).toHaveBeenCalledTimes(calls);
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/audit\?action=flag\.$/);

    // corrected, it applies
    await userEvent.clear(field);
    expect(field).not.toHaveAttribute('aria-invalid');
    await userEvent.type(field, '7');
    await userEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    await waitFor(() => expect(audit).toHaveBeenLastCalledWith({ page: 1, page_size: 50, case_id: 7, action: 'flag.' }, expect.anything()));
  });

  it('lists nothing for a link whose case id is not a number, rather than every event', async () => {
    const audit = vi.spyOn(api, 'audit').mockResolvedValue({ items: [event({})], total: 1, page: 1, page_size: 50 });
    const download = vi.spyOn(csv, 'downloadText').mockImplementation(() => undefined);
    renderAt(<AuditPage />, { path: '/audit?case_id=abc' });
    expect(await screen.findByText('No events listed: correct the Case ID and apply the filters.')).toBeInTheDocument();
    expect(screen.getByLabelText('Case ID')).toHaveAccessibleDescription(/^“abc” is not a case ID/);
    await userEvent.click(screen.getByRole('button', { name: 'Download audit CSV' }));
    expect(download).not.toHaveBeenCalled();
    expect(audit).not.toHaveBeenCalled();
  });
});

describe('AuditPage, From and To in a shared link', () => {
  // five and a half hours ahead of UTC: a link read as local time would select other events here
  inTimeZone('Asia/Kolkata');
  const since = () => new URLSearchParams(screen.getByTestId('location').textContent!.split('?')[1]).get('since');

  it('puts the instant in the address with its zone, while the field shows local time', async () => {
    const audit = vi.spyOn(api, 'audit').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 50 });
    renderAt(<AuditPage />, { path: '/audit' });
    await screen.findByText('No events match.');
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-12-06T03:40' } });
    await userEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    await waitFor(() => expect(since()).toBe('2026-12-05T22:10:00Z'));
    expect(screen.getByLabelText('From')).toHaveValue('2026-12-06T03:40');
    expect(audit).toHaveBeenLastCalledWith({ page: 1, page_size: 50, since: '2026-12-05T22:10:00.000Z' }, expect.anything());
  });

  it('opens a link with a zone at that instant, shown in local time', async () => {
    const audit = vi.spyOn(api, 'audit').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 50 });
    renderAt(<AuditPage />, { path: '/audit?since=2026-12-05T22%3A10%3A00Z&until=2026-12-06T00:00:00%2B01:00' });
    await screen.findByText('No events match.');
    expect(screen.getByLabelText('From')).toHaveValue('2026-12-06T03:40');
    expect(screen.getByLabelText('To')).toHaveValue('2026-12-06T04:30');
    expect(audit).toHaveBeenCalledWith(
      // To takes in its whole minute: the API's until is exclusive
      { page: 1, page_size: 50, since: '2026-12-05T22:10:00.000Z', until: '2026-12-05T23:01:00.000Z' },
      expect.anything(),
    );
  });

  it('reads an older link without a zone as local time, as it was written', async () => {
    const audit = vi.spyOn(api, 'audit').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 50 });
    renderAt(<AuditPage />, { path: '/audit?since=2026-12-06T03:40' });
    await screen.findByText('No events match.');
    expect(screen.getByLabelText('From')).toHaveValue('2026-12-06T03:40');
    expect(audit).toHaveBeenCalledWith({ page: 1, page_size: 50, since: '2026-12-05T22:10:00.000Z' }, expect.anything());
  });
});

/** The page with what the app around it offers: the nav's Audit link, and the browser's Back. */
function AuditWithNav() {
  const navigate = useNavigate();
  return (
    <>
      <Link to="/audit">Audit</Link>
      <button type="button" onClick={() => navigate(-1)}>
        Back
      </button>
      <AuditPage />
    </>
  );
}

describe('AuditPage, the filters follow the address', () => {
  const location = () => screen.getByTestId('location').textContent;

  it('empties the form when the Audit link lists every event, and refills it on Back', async () => {
    const audit = vi.spyOn(api, 'audit').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 50 });
    const download = vi.spyOn(csv, 'downloadText').mockImplementation(() => undefined);
    renderAt(<AuditWithNav />, { path: '/audit?action=case.deleted' });
    await screen.findByText('No events match.');
    expect(screen.getByLabelText('Action')).toHaveValue('case.deleted');

    await userEvent.click(screen.getByRole('link', { name: 'Audit' }));
    expect(location()).toBe('/audit');
    await waitFor(() => expect(screen.getByLabelText('Action')).toHaveValue(''));
    expect(audit).toHaveBeenLastCalledWith({ page: 1, page_size: 50 }, expect.anything());
    // and the export is of what the form shows
    await userEvent.click(screen.getByRole('button', { name: 'Download audit CSV' }));
    await waitFor(() => expect(download).toHaveBeenCalled());
    expect(audit.mock.lastCall?.[0]).toEqual({ page: 1, page_size: 500 });

    await userEvent.click(screen.getByRole('button', { name: 'Back' }));
    expect(location()).toBe('/audit?action=case.deleted');
    await waitFor(() => expect(screen.getByLabelText('Action')).toHaveValue('case.deleted'));
  });

  it("drops a refused link's Case ID error with the link", async () => {
    vi.spyOn(api, 'audit').mockResolvedValue({ items: [event({ id: 31 })], total: 1, page: 1, page_size: 50 });
    renderAt(<AuditWithNav />, { path: '/audit?case_id=abc' });
    expect(await screen.findByText('No events listed: correct the Case ID and apply the filters.')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('link', { name: 'Audit' }));
    await waitFor(() => expect(document.querySelectorAll('[data-audit-id]')).toHaveLength(1));
    expect(screen.getByLabelText('Case ID')).toHaveValue('');
    expect(screen.getByLabelText('Case ID')).not.toHaveAttribute('aria-invalid');
  });

  it("keeps what is typed when the page changes the address itself (the pager)", async () => {
    vi.spyOn(api, 'audit').mockResolvedValue({ items: [event({ id: 41 })], total: 120, page: 1, page_size: 50 });
    renderAt(<AuditWithNav />, { path: '/audit?action=flag.' });
    await screen.findByText('Page 1 of 3');
    await userEvent.type(screen.getByLabelText('User'), 'cli');
    await userEvent.click(screen.getByRole('button', { name: 'Next page' }));
    expect(location()).toBe('/audit?action=flag.&page=2');
    expect(screen.getByLabelText('User')).toHaveValue('cli');
    expect(screen.getByLabelText('Action')).toHaveValue('flag.');
  });
});

describe('AuditPage, Export cases CSV', () => {
  const reply = (status: number, body: string, headers: Record<string, string>) =>
    vi.spyOn(globalThis, 'fetch').mockResolvedValue(new Response(body, { status, headers }));

  it('downloads through the API client, under the name the server gives', async () => {
    vi.spyOn(api, 'audit').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 50 });
    const fetch = reply(200, 'id,label\r\n', { 'Content-Type': 'text/csv', 'Content-Disposition': 'attachment; filename="cases-2026.csv"' });
    const save = vi.spyOn(download, 'saveBlob').mockImplementation(() => undefined);
    renderAt(<AuditPage />, { path: '/audit' });
    await userEvent.click(await screen.findByRole('link', { name: 'Export cases CSV' }));
    // (the Response's Blob is Node's, not jsdom's: hence not expect.any(Blob))
    await waitFor(() => expect(save).toHaveBeenCalledWith(expect.anything(), 'cases-2026.csv'));
    expect(String(fetch.mock.calls[0][0])).toMatch(/\/api\/export\.csv$/);
    expect(await (save.mock.calls[0][0] as Blob).text()).toBe('id,label\r\n');
  });

  it('sends an ended session to sign in, as every request does, and says the export failed', async () => {
    vi.spyOn(api, 'audit').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 50 });
    const signIn = vi.fn();
    const restore = setUnauthorizedHandler(signIn);
    try {
      reply(401, JSON.stringify({ detail: 'Your session has ended.', reason: 'ended' }), { 'Content-Type': 'application/json' });
      const save = vi.spyOn(download, 'saveBlob').mockImplementation(() => undefined);
      renderAt(<AuditPage />, { path: '/audit' });
      await userEvent.click(await screen.findByRole('link', { name: 'Export cases CSV' }));
      expect(await screen.findByText(/^Export failed:/)).toHaveTextContent('Export failed: Your session has ended.');
      expect(signIn).toHaveBeenCalledWith(expect.any(String), 'ended');
      expect(save).not.toHaveBeenCalled();
    } finally {
      restore();
    }
  });
});

describe('AuditPage past its last page', () => {
  it('goes to the last page of an old link whose events fill fewer pages now', async () => {
    const audit = vi.spyOn(api, 'audit').mockImplementation(async (query) => ({
      items: query.page === 2 ? [event({ id: 51, action: 'login.succeeded' })] : [],
      total: 51,
      page: query.page ?? 1,
      page_size: 50,
    }));
    renderAt(<AuditPage />, { path: '/audit?action=login.&page=9' });
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/audit?action=login.&page=2'));
    expect(await screen.findByText('Page 2 of 2')).toBeInTheDocument();
    expect(audit).toHaveBeenLastCalledWith(expect.objectContaining({ page: 2 }), expect.anything());
  });
});
