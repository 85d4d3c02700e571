import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderAt } from '../test/render';
import { api, setUnauthorizedHandler } from '../api/client';
import type { Stats, StorageSpace, User } from '../api/types';
import UsersPage, { resetDoneText } from './UsersPage';
import { useMe } from '../api/queries';
import { AppHeader } from '../components/AppHeader';
import { catalogueOf, queueOf } from '../test/models';
import { auditCsv, auditQueryFromParams } from './AuditPage';
import { localToIso } from '../lib/auditWindow';
import StatsPage, { formatDuration, MIN_DOUBLE_READ } from './StatsPage';
import * as download from '../lib/download';

const user = (over: Partial<User>): User => ({
  id: 2,
  username: 'bob',
  roles: ['clinician'],
  disabled: false,
  created_at: '2026-01-01T00:00:00Z',
  password_change_required: false,
  ...over,
});

const STORAGE: StorageSpace = {
  total_bytes: 500e9, free_bytes: 38.2e9, cases: 1234, case_bytes: 24e6, room_for_cases: 1591, notice: null,
  retention_days: null,
};

beforeEach(() => {
  vi.spyOn(api, 'me').mockResolvedValue({ id: 1, username: 'root', roles: ['admin'], password_change_required: false });
  vi.spyOn(api, 'queue').mockResolvedValue(queueOf({ workers: [] }));
  vi.spyOn(api, 'storage').mockResolvedValue(STORAGE);
});
afterEach(() => vi.restoreAllMocks());

describe('UsersPage', () => {
  it('creates a user and disables another, confirming each in the status region', async () => {
    vi.spyOn(api, 'listUsers').mockResolvedValue([user({ id: 1, username: 'root', roles: ['admin'] }), user({})]);
    const create = vi.spyOn(api, 'createUser').mockResolvedValue(user({ id: 3, username: 'carol' }));
    const update = vi.spyOn(api, 'updateUser').mockResolvedValue(user({ disabled: true }));
    renderAt(<UsersPage />);
    await userEvent.type(screen.getByLabelText('New username'), 'carol');
    await userEvent.type(screen.getByLabelText('Initial password'), 'pw-123456789');
    await userEvent.click(screen.getByRole('checkbox', { name: 'coordinator' }));
    await userEvent.click(screen.getByRole('button', { name: 'Create user' }));
    await waitFor(() =>
      expect(create).toHaveBeenCalledWith({ username: 'carol', password: 'pw-123456789', roles: ['clinician', 'coordinator'] }),
    );
    expect(await screen.findByRole('status')).toHaveTextContent(
      'User carol created: they choose their own password when they first sign in.',
    );

    await userEvent.click(await screen.findByRole('button', { name: 'Disable bob' }));
    // it asks first, saying what disabling does; Cancel leaves the account as it was
    const ask = screen.getByRole('group', { name: 'Disable bob?' });
    expect(ask).toHaveTextContent('every session of theirs ends, their API tokens are revoked');
    await userEvent.click(within(ask).getByRole('button', { name: 'Cancel' }));
    expect(update).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole('button', { name: 'Disable bob' }));
    await userEvent.click(screen.getByRole('button', { name: 'Disable bob now' }));
    await waitFor(() => expect(update).toHaveBeenCalledWith(2, { disabled: true, roles: undefined }));
    expect(await screen.findByRole('status')).toHaveTextContent('bob disabled.');
    // nobody can disable or un-admin themselves
    expect(screen.getByRole('button', { name: 'Disable root' })).toBeDisabled();
    expect(screen.getByRole('checkbox', { name: 'admin role for root' })).toBeDisabled();
  });
});

describe('UsersPage password reset', () => {
  it("is not offered on the admin's own row, which points to the Account page", async () => {
    vi.spyOn(api, 'listUsers').mockResolvedValue([user({ id: 1, username: 'root', roles: ['admin'] }), user({})]);
    renderAt(<UsersPage />);
    const own = await screen.findByRole('button', { name: 'Reset password for root' });
    await waitFor(() => expect(own).toBeDisabled());
    expect(own).toHaveAttribute('title', expect.stringContaining('Account page'));
    expect(screen.getByRole('button', { name: 'Reset password for bob' })).toBeEnabled();
  });

  it("says that the user's sessions ended and their API tokens were revoked", async () => {
    vi.spyOn(api, 'listUsers').mockResolvedValue([user({ id: 1, username: 'root', roles: ['admin'] }), user({})]);
    const reset = vi.spyOn(api, 'resetPassword').mockResolvedValue({ tokens_revoked: 1 });
    renderAt(<UsersPage />);
    await userEvent.click(await screen.findByRole('button', { name: 'Reset password for bob' }));
    expect(screen.getByText(/revokes their API tokens/)).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText('New password for bob'), 'new password 12');
    await userEvent.click(screen.getByRole('button', { name: 'Set password' }));
    await waitFor(() => expect(reset).toHaveBeenCalledWith(2, 'new password 12'));
    expect(await screen.findByRole('status')).toHaveTextContent(
      'Password of bob reset: their sessions ended, 1 API token was revoked, and they choose their own ' +
        'password when they next sign in.',
    );
  });

  it('names no API tokens after a reset when the user had none', () => {
    expect(resetDoneText('bob', 0)).toBe(
      'Password of bob reset: their sessions ended, and they choose their own password when they next sign in.',
    );
    expect(resetDoneText('bob', 3)).toContain('their sessions ended, 3 API tokens were revoked, and');
  });

  it('marks a user whose password is still the one an admin set', async () => {
    vi.spyOn(api, 'listUsers').mockResolvedValue([
      user({ id: 1, username: 'root', roles: ['admin'] }),
      user({ password_change_required: true }),
    ]);
    renderAt(<UsersPage />);
    const bob = await screen.findByRole('row', { name: /^bob/ });
    expect(within(bob).getByText('password to change')).toBeInTheDocument();
    expect(within(screen.getByRole('row', { name: /^root/ })).queryByText('password to change')).not.toBeInTheDocument();
  });
});

describe('UsersPage roles', () => {
  it("cannot untick a user's last role: the box is disabled and says why", async () => {
    vi.spyOn(api, 'listUsers').mockResolvedValue([
      user({ id: 1, username: 'root', roles: ['admin'] }),
      user({ id: 2, username: 'bob', roles: ['clinician'] }),
      user({ id: 3, username: 'cat', roles: ['clinician', 'coordinator'] }),
    ]);
    const update = vi.spyOn(api, 'updateUser');
    renderAt(<UsersPage />);
    const last = await screen.findByRole('checkbox', { name: 'clinician role for bob' });
    expect(last).toBeChecked();
    expect(last).toBeDisabled();
    // the create form says why in words, not only in a tooltip
    expect(screen.getByText('A user needs at least one role: the last one ticked stays ticked.')).toBeInTheDocument();
    expect(last).toHaveAttribute('title', 'A user needs at least one role');
    await userEvent.click(last);
    expect(update).not.toHaveBeenCalled();
    // with two roles either may go
    expect(screen.getByRole('checkbox', { name: 'clinician role for cat' })).toBeEnabled();
    expect(screen.getByRole('checkbox', { name: 'coordinator role for cat' })).toBeEnabled();
    expect(screen.getByRole('checkbox', { name: 'coordinator role for bob' })).toBeEnabled();
    expect(screen.getByRole('checkbox', { name: 'admin role for root' })).toHaveAttribute(
      'title',
      'You cannot remove your own admin role',
    );
    // the create form keeps one role ticked too
    expect(screen.getByRole('checkbox', { name: 'clinician' })).toBeDisabled();
    await userEvent.click(screen.getByRole('checkbox', { name: 'coordinator' }));
    expect(screen.getByRole('checkbox', { name: 'clinician' })).toBeEnabled();
  });
});

describe('UsersPage, the admin role', () => {
  it('asks before removing it, saying what the user loses; Cancel leaves the role', async () => {
    const ada = user({ id: 4, username: 'ada', roles: ['clinician', 'admin'] });
    vi.spyOn(api, 'listUsers').mockResolvedValue([user({ id: 1, username: 'root', roles: ['admin'] }), ada]);
    const update = vi.spyOn(api, 'updateUser').mockResolvedValue({ ...ada, roles: ['clinician'] });
    renderAt(<UsersPage />);
    const box = await screen.findByRole('checkbox', { name: 'admin role for ada' });
    await userEvent.click(box);
    const ask = screen.getByRole('group', { name: 'Remove the admin role from ada?' });
    expect(ask).toHaveTextContent(
      'ada will no longer be able to manage user accounts (roles, passwords, API tokens), see the models, workers ' +
        'and storage, or read the audit trail. They keep the clinician role.',
    );
    expect(box).toBeChecked();
    expect(update).not.toHaveBeenCalled();
    await userEvent.click(within(ask).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('group', { name: 'Remove the admin role from ada?' })).not.toBeInTheDocument();
    expect(box).toBeChecked();
    expect(update).not.toHaveBeenCalled();

    await userEvent.click(box);
    await userEvent.click(screen.getByRole('button', { name: 'Remove the admin role from ada now' }));
    await waitFor(() => expect(update).toHaveBeenCalledWith(4, { disabled: undefined, roles: ['clinician'] }));
    expect(await screen.findByRole('status')).toHaveTextContent('Roles of ada: clinician (admin removed).');
  });

  it('does not say a coordinator loses the audit trail, which their other role still opens', async () => {
    vi.spyOn(api, 'listUsers').mockResolvedValue([
      user({ id: 1, username: 'root', roles: ['admin'] }),
      user({ id: 4, username: 'ada', roles: ['coordinator', 'admin'] }),
    ]);
    renderAt(<UsersPage />);
    await userEvent.click(await screen.findByRole('checkbox', { name: 'admin role for ada' }));
    const ask = screen.getByRole('group', { name: 'Remove the admin role from ada?' });
    expect(ask).toHaveTextContent('see the models, workers and storage. They keep the coordinator role.');
    expect(ask).not.toHaveTextContent('audit');
  });

  it('gives a role, or takes away one other than admin, at one click and says what was saved', async () => {
    let bob = user({ roles: ['clinician', 'coordinator'] });
    vi.spyOn(api, 'listUsers').mockImplementation(async () => [user({ id: 1, username: 'root', roles: ['admin'] }), bob]);
    const update = vi.spyOn(api, 'updateUser').mockImplementation(async (_id, body) => (bob = { ...bob, roles: body.roles! }));
    renderAt(<UsersPage />);
    await userEvent.click(await screen.findByRole('checkbox', { name: 'coordinator role for bob' }));
    await waitFor(() => expect(update).toHaveBeenCalledWith(2, { disabled: undefined, roles: ['clinician'] }));
    expect(await screen.findByRole('status')).toHaveTextContent('Roles of bob: clinician (coordinator removed).');
    expect(screen.queryByRole('group', { name: /^Remove the admin role/ })).not.toBeInTheDocument();

    await userEvent.click(screen.getByRole('checkbox', { name: 'admin role for bob' }));
    await waitFor(() => expect(update).toHaveBeenLastCalledWith(2, { disabled: undefined, roles: ['clinician', 'admin'] }));
    expect(await screen.findByRole('status')).toHaveTextContent('Roles of bob: clinician, admin (admin added).');
  });
});

describe('UsersPage, Create user', () => {
  it('starts the form afresh once a user is created: the next user does not get their roles', async () => {
    vi.spyOn(api, 'listUsers').mockResolvedValue([user({ id: 1, username: 'root', roles: ['admin'] })]);
    const create = vi.spyOn(api, 'createUser').mockResolvedValue(user({ id: 3, username: 'carol', roles: ['admin'] }));
    renderAt(<UsersPage />);
    await userEvent.type(screen.getByLabelText('New username'), 'carol');
    await userEvent.type(screen.getByLabelText('Initial password'), 'pw-123456789');
    await userEvent.click(screen.getByRole('checkbox', { name: 'admin' }));
    await userEvent.click(screen.getByRole('checkbox', { name: 'clinician' }));
    await userEvent.click(screen.getByRole('button', { name: 'Create user' }));
    await waitFor(() => expect(create).toHaveBeenCalledWith({ username: 'carol', password: 'pw-123456789', roles: ['admin'] }));
    await screen.findByText(/User carol created/);
    expect(screen.getByLabelText('New username')).toHaveValue('');
    expect(screen.getByLabelText('Initial password')).toHaveValue('');
    expect(screen.getByRole('checkbox', { name: 'clinician' })).toBeChecked();
    expect(screen.getByRole('checkbox', { name: 'coordinator' })).not.toBeChecked();
    expect(screen.getByRole('checkbox', { name: 'admin' })).not.toBeChecked();
  });
});

describe('UsersPage, own roles', () => {
  it('reloads the signed-in user when an admin changes their own roles, so the nav follows at once', async () => {
    const root = user({ id: 1, username: 'root', roles: ['admin'] });
    const me = vi.mocked(api.me);
    me.mockResolvedValueOnce({ id: 1, username: 'root', roles: ['admin'], password_change_required: false });
    me.mockResolvedValue({ id: 1, username: 'root', roles: ['coordinator', 'admin'], password_change_required: false });
    vi.spyOn(api, 'listUsers').mockResolvedValue([root, user({})]);
    vi.spyOn(api, 'updateUser').mockResolvedValue({ ...root, roles: ['coordinator', 'admin'] });
    vi.spyOn(api, 'models').mockResolvedValue(catalogueOf([]));
    function HeaderAndPage() {
      const m = useMe();
      return m.data ? (
        <>
          <AppHeader me={m.data} />
          <UsersPage />
        </>
      ) : null;
    }
    renderAt(<HeaderAndPage />);
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    expect(nav).not.toHaveTextContent('Statistics');
    await userEvent.click(await screen.findByRole('checkbox', { name: 'coordinator role for root' }));
    expect(await screen.findByRole('status')).toHaveTextContent('Roles of root: coordinator, admin (coordinator added).');
    await waitFor(() => expect(within(nav).getByRole('link', { name: 'Statistics' })).toBeInTheDocument());
    expect(me).toHaveBeenCalledTimes(2);
  });

  it("does not reload the signed-in user for someone else's roles", async () => {
    const bob = user({});
    vi.spyOn(api, 'listUsers').mockResolvedValue([user({ id: 1, username: 'root', roles: ['admin'] }), bob]);
    vi.spyOn(api, 'updateUser').mockResolvedValue({ ...bob, roles: ['clinician', 'coordinator'] });
    vi.spyOn(api, 'models').mockResolvedValue(catalogueOf([]));
    renderAt(<UsersPage />);
    await userEvent.click(await screen.findByRole('checkbox', { name: 'coordinator role for bob' }));
    expect(await screen.findByRole('status')).toHaveTextContent('Roles of bob: clinician, coordinator (coordinator added).');
    expect(api.me).toHaveBeenCalledTimes(1);
  });
});

describe('Models on the workers', () => {
  it('shows the admin which profile can analyse which sequence, and why not', async () => {
    vi.spyOn(api, 'listUsers').mockResolvedValue([]);
    vi.spyOn(api, 'models').mockResolvedValue(catalogueOf([['fast', 't1'], ['fast', 'flair']]));
    renderAt(<UsersPage />);
    const table = await screen.findByRole('table', { name: 'Installed models' });
    const fast = within(table).getByRole('row', { name: /^fast/ });
    expect(within(fast).getAllByRole('cell').map((c) => c.textContent)).toEqual(['installed', 'not installed', 'installed']);
    const paperT1 = within(within(table).getByRole('row', { name: /^paper/ })).getAllByRole('cell')[0];
    expect(paperT1).toHaveAttribute('title', 'no trained paper-profile model for T1 scans');
    expect(screen.getByTestId('checks-only-sequences')).toHaveTextContent('T2 scans get the rescan checks alone');
  });

  it('says when no worker has reported', async () => {
    vi.spyOn(api, 'listUsers').mockResolvedValue([]);
    vi.spyOn(api, 'models').mockResolvedValue({ default_profile: 'fast', reported_at: null, models: [], checks_only_sequences: [] });
    renderAt(<UsersPage />);
    expect(await screen.findByText(/No inference worker has reported yet/)).toBeInTheDocument();
  });
});

describe('Workers', () => {
  it('lists each worker by its heartbeat with the runs waiting', async () => {
    vi.spyOn(api, 'listUsers').mockResolvedValue([]);
    vi.spyOn(api, 'models').mockResolvedValue(catalogueOf([]));
    const seen = { started_at: '2026-12-05T08:00:00Z', last_seen_at: '2026-12-05T09:00:00Z' };
    vi.mocked(api.queue).mockResolvedValue(
      queueOf({
        queued: 3,
        running: 1,
        oldest_queued_at: '2026-12-05T08:30:00Z',
        workers: [
          { name: 'celery@gpu-1', queues: ['default', 'gpu'], online: true, stopped_at: null, ...seen },
          { name: 'celery@gpu-2', queues: ['gpu'], online: false, stopped_at: null, ...seen },
          { name: 'celery@gpu-3', queues: ['gpu'], online: false, stopped_at: '2026-12-05T09:00:10Z', ...seen },
        ],
      }),
    );
    renderAt(<UsersPage />);
    const table = await screen.findByRole('table', { name: 'Workers' });
    const cells = (name: string) => within(within(table).getByRole('row', { name: new RegExp(`^${name}`) })).getAllByRole('cell');
    expect(cells('celery@gpu-1').map((c) => c.textContent).slice(0, 2)).toEqual(['housekeeping, analyses', 'running']);
    expect(cells('celery@gpu-2')[1]).toHaveTextContent('not responding');
    // a clean shutdown is no crash: it says when it stopped
    expect(cells('celery@gpu-3')[1]).toHaveTextContent(/^stopped \S/);
    expect(cells('celery@gpu-3')[1]).not.toHaveTextContent('not responding');
    expect(screen.getByTestId('queue-counts')).toHaveTextContent(/^1 running, 3 queued \(the oldest since .+\)\.$/);
    expect(screen.queryByTestId('no-inference-worker')).not.toBeInTheDocument();
  });

  it('tells the admin to start an analysis worker when none runs', async () => {
    vi.spyOn(api, 'listUsers').mockResolvedValue([]);
    vi.spyOn(api, 'models').mockResolvedValue(catalogueOf([]));
    vi.mocked(api.queue).mockResolvedValue(queueOf({ inference_workers_online: 0, workers: [] }));
    renderAt(<UsersPage />);
    expect(await screen.findByTestId('no-inference-worker')).toHaveTextContent('No analysis worker is running');
    // the analyses and housekeeping both: a worker on gpu alone leaves the default queue unserved
    expect(screen.getByTestId('no-inference-worker').querySelectorAll('code')[1]).toHaveTextContent(
      /^neurotriage worker --queues gpu,default$/,
    );
    expect(screen.getByText('No worker has reported a heartbeat in the last day.')).toBeInTheDocument();
  });
});

describe('Storage', () => {
  it('gives the free space in bytes and in cases, and the retention period', async () => {
    vi.spyOn(api, 'listUsers').mockResolvedValue([]);
    vi.spyOn(api, 'models').mockResolvedValue(catalogueOf([]));
    renderAt(<UsersPage />);
    expect(await screen.findByTestId('storage-space')).toHaveTextContent(
      '38.2 GB free of 500.0 GB. 1,234 cases are stored; the newest take 24 MB each on average, so there is room ' +
        'for about 1,591 more.',
    );
    expect(screen.getByTestId('retention')).toHaveTextContent('Cases are kept until a coordinator deletes them');
    expect(screen.queryByTestId('storage-notice')).not.toBeInTheDocument();
  });

  it('warns when the disk is nearly full, and names a retention period', async () => {
    vi.spyOn(api, 'listUsers').mockResolvedValue([]);
    vi.spyOn(api, 'models').mockResolvedValue(catalogueOf([]));
    vi.mocked(api.storage).mockResolvedValue({
      ...STORAGE, free_bytes: 1.5e9, room_for_cases: 62, notice: 'Storage is nearly full: 1.5 GB free.', retention_days: 90,
    });
    renderAt(<UsersPage />);
    expect(await screen.findByTestId('storage-notice')).toHaveTextContent('Storage is nearly full: 1.5 GB free.');
    expect(screen.getByTestId('retention')).toHaveTextContent('Cases are deleted 90 days after upload');
  });

  it('says so before the first case', async () => {
    vi.spyOn(api, 'listUsers').mockResolvedValue([]);
    vi.spyOn(api, 'models').mockResolvedValue(catalogueOf([]));
    vi.mocked(api.storage).mockResolvedValue({ ...STORAGE, cases: 0, case_bytes: null, room_for_cases: null });
    renderAt(<UsersPage />);
    expect(await screen.findByTestId('storage-space')).toHaveTextContent('38.2 GB free of 500.0 GB. No case is stored yet.');
  });

  it('says when the cases it counts hold no files, rather than that there are none', async () => {
    vi.spyOn(api, 'listUsers').mockResolvedValue([]);
    vi.spyOn(api, 'models').mockResolvedValue(catalogueOf([]));
    vi.mocked(api.storage).mockResolvedValue({ ...STORAGE, case_bytes: 0, room_for_cases: null });
    renderAt(<UsersPage />);
    expect(await screen.findByTestId('storage-space')).toHaveTextContent(
      '1,234 cases are stored, but the newest hold no files: they may be missing (neurotriage check-storage lists them).',
    );
  });
});

describe('audit helpers', () => {
  it('builds the query from the address, ignoring junk', () => {
    const q = auditQueryFromParams(new URLSearchParams('username=%20clin%20&case_id=7&action=flag.&since=2026-01-02T10:00'), 2);
    expect(q).toMatchObject({ page: 2, page_size: 50, username: 'clin', case_id: 7, action: 'flag.' });
    expect(q.since).toBe(new Date('2026-01-02T10:00').toISOString());
    expect(auditQueryFromParams(new URLSearchParams('case_id=abc&until=nonsense'), 1)).toEqual({ page: 1, page_size: 50 });
    expect(localToIso('')).toBeUndefined();
  });
  it('exports events as CSV, with the case label and the usernames behind user ids', () => {
    const csv = auditCsv([
      { id: 1, at: '2026-01-01T00:00:00Z', actor: 'clin', action: 'flag.verdict', case_id: 3, case_label: 'study 7',
        client_ip: null, detail: { v: 'a,b' }, detail_usernames: {} },
      { id: 2, at: '2026-01-01T00:01:00Z', actor: 'adm', action: 'user.disabled', case_id: null, case_label: null,
        client_ip: '10.0.0.1', detail: { user_id: 5 }, detail_usernames: { user_id: 'alice' } },
    ]);
    expect(csv).toBe(
      'id,at,actor,action,case_id,case_label,client_ip,detail,detail_usernames\r\n' +
        '1,2026-01-01T00:00:00Z,clin,flag.verdict,3,study 7,,"{""v"":""a,b""}",\r\n' +
        '2,2026-01-01T00:01:00Z,adm,user.disabled,,,10.0.0.1,"{""user_id"":5}","{""user_id"":""alice""}"\r\n',
    );
  });
  it('formats durations', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(600)).toBe('10.0 min');
    expect(formatDuration(7200)).toBe('2.0 h');
    expect(formatDuration(3 * 86400)).toBe('3.0 d');
  });
});

const agreement = (revised: number, items = 12, over: Partial<Stats['agreement']['case_verdicts']> = {}) => ({
  items_with_multiple_readers: items, pairs: items, percent_agreement: 66.7, cohen_kappa: 0.4, revised, not_independent: 0,
  ...over,
});

function statsWith(a: Stats['agreement']): Stats {
  const none = { count: 0, median_s: null, mean_s: null, p90_s: null };
  return {
    cases: 4,
    flags_by_model: [],
    flags_by_reviewer: [],
    case_verdicts: { normal: 1, abnormal: 2, artefact_rescan: 0, uncertain: 0 },
    turnaround: { upload_to_first_verdict: none, queue_to_result: none },
    agreement: a,
  };
}

describe('StatsPage', () => {
  it('says agreement is on first reads and how many verdicts were revised since', async () => {
    vi.spyOn(api, 'stats').mockResolvedValue(statsWith({ case_verdicts: agreement(1), flag_verdicts: agreement(2) }));
    renderAt(<StatsPage />);
    const note = await screen.findByTestId('agreement-note');
    expect(note).toHaveTextContent('on independent first reads');
    expect(note).toHaveTextContent('Revised since: 2 flag verdicts and 1 case verdict.');
    expect(note).not.toHaveTextContent('Left out');
    // κ keeps its case inside the upper-cased label; both exports are offered
    expect(screen.getByText('case agreement', { exact: false }).querySelector('.as-written')).toHaveTextContent('κ');
    expect(screen.getByRole('link', { name: 'Export cases JSON' })).toHaveAttribute('href', '/api/export.json');
  });
});

describe('StatsPage agreement', () => {
  it('says how many first reads it left out as given with another reader\'s verdict in view', async () => {
    vi.spyOn(api, 'stats').mockResolvedValue(
      statsWith({ case_verdicts: agreement(0, 12, { not_independent: 1 }), flag_verdicts: agreement(0, 12, { not_independent: 3 }) }),
    );
    renderAt(<StatsPage />);
    expect(await screen.findByTestId('agreement-note')).toHaveTextContent(
      "Left out: 3 flag verdicts and 1 case verdict first given with another reader's in view",
    );
  });

  it('gives the percentage the API sends as a percentage', async () => {
    vi.spyOn(api, 'stats').mockResolvedValue(statsWith({ case_verdicts: agreement(0), flag_verdicts: agreement(0) }));
    renderAt(<StatsPage />);
    const cases = await screen.findByTestId('case-agreement');
    expect(cases).toHaveTextContent(/^67%case agreement \(κ 0\.40\)$/);
  });

  it(`shows the count instead of a figure below ${MIN_DOUBLE_READ} cases read by two readers`, async () => {
    vi.spyOn(api, 'stats').mockResolvedValue(
      statsWith({
        // one double-read case on which the readers differed: 0% and κ 0 would read as total disagreement
        case_verdicts: agreement(0, 1, { percent_agreement: 0, cohen_kappa: 0 }),
        flag_verdicts: agreement(0, MIN_DOUBLE_READ),
      }),
    );
    renderAt(<StatsPage />);
    const cases = await screen.findByTestId('case-agreement');
    expect(cases).toHaveTextContent(/^—too few cases read by two readers for agreement: 1 of 10 needed$/);
    expect(cases).not.toHaveTextContent('%');
    expect(cases).not.toHaveTextContent('κ');
    // flags, at the minimum, get their figure
    expect(screen.getByTestId('flag-agreement')).toHaveTextContent('67%flag agreement (κ 0.40)');
    expect(screen.getByTestId('agreement-note')).toHaveTextContent('Agreement over 10 flags and 1 case read by more than one');
  });

  it('puts no big number where the figure would be: a 0 there reads as 0% agreement', async () => {
    vi.spyOn(api, 'stats').mockResolvedValue(
      statsWith({ case_verdicts: agreement(0, 0, { percent_agreement: null, cohen_kappa: null }), flag_verdicts: agreement(0, 0) }),
    );
    renderAt(<StatsPage />);
    const flags = await screen.findByTestId('flag-agreement');
    expect(flags.querySelector('.v')).toHaveTextContent(/^—$/);
    expect(flags.querySelector('.l')).toHaveTextContent(/^too few flags read by two readers for agreement: 0 of 10 needed$/);
    expect(screen.getByTestId('case-agreement').querySelector('.v')).toHaveTextContent(/^—$/);
  });
});

describe('StatsPage charts', () => {
  it('says "No data yet" in every chart before anything is read, the case verdicts (all 0) included', async () => {
    const none = statsWith({ case_verdicts: agreement(0, 0), flag_verdicts: agreement(0, 0) });
    none.case_verdicts = { normal: 0, abnormal: 0, artefact_rescan: 0, uncertain: 0 };
    vi.spyOn(api, 'stats').mockResolvedValue(none);
    renderAt(<StatsPage />);
    const chart = (title: string) => screen.getByRole('heading', { level: 2, name: title }).closest('figure')!;
    await screen.findByRole('heading', { level: 2, name: 'Case verdicts' });
    for (const title of ['Flag verdicts per model version', 'Case verdicts', 'Flag verdicts per reviewer']) {
      expect(chart(title)).toHaveTextContent('No data yet.');
      expect(chart(title).querySelector('canvas')).toBeNull();
    }
  });

  it('draws the case verdicts once one is given', async () => {
    vi.spyOn(api, 'stats').mockResolvedValue(statsWith({ case_verdicts: agreement(0), flag_verdicts: agreement(0) }));
    renderAt(<StatsPage />);
    const chart = (await screen.findByRole('heading', { level: 2, name: 'Case verdicts' })).closest('figure')!;
    expect(chart).not.toHaveTextContent('No data yet.');
    expect(chart.querySelector('canvas')).not.toBeNull();
  });
});

describe('StatsPage exports', () => {
  const reply = (status: number, body: string, headers: Record<string, string>) =>
    vi.spyOn(globalThis, 'fetch').mockResolvedValue(new Response(body, { status, headers }));

  it('downloads through the API client: the server names the CSV, the JSON gets a name of its own', async () => {
    vi.spyOn(api, 'stats').mockResolvedValue(statsWith({ case_verdicts: agreement(0), flag_verdicts: agreement(0) }));
    const save = vi.spyOn(download, 'saveBlob').mockImplementation(() => undefined);
    renderAt(<StatsPage />);
    await screen.findByTestId('agreement-note');
    const fetch = reply(200, 'label\r\n', { 'Content-Type': 'text/csv', 'Content-Disposition': 'attachment; filename="neurotriage-export.csv"' });
    await userEvent.click(screen.getByRole('link', { name: 'Export cases CSV' }));
    await waitFor(() => expect(save).toHaveBeenCalledWith(expect.anything(), 'neurotriage-export.csv'));
    expect(String(fetch.mock.calls[0][0])).toMatch(/\/api\/export\.csv$/);

    reply(200, '[]', { 'Content-Type': 'application/json' });
    await userEvent.click(screen.getByRole('link', { name: 'Export cases JSON' }));
    await waitFor(() => expect(save).toHaveBeenLastCalledWith(expect.anything(), 'neurotriage-export.json'));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('sends an ended session to sign in, as every request does, and says the export failed', async () => {
    vi.spyOn(api, 'stats').mockResolvedValue(statsWith({ case_verdicts: agreement(0), flag_verdicts: agreement(0) }));
    const save = vi.spyOn(download, 'saveBlob').mockImplementation(() => undefined);
    const signIn = vi.fn();
    const restore = setUnauthorizedHandler(signIn);
    try {
      renderAt(<StatsPage />);
      await screen.findByTestId('agreement-note');
      reply(401, JSON.stringify({ detail: 'Your session has ended.', reason: 'ended' }), { 'Content-Type': 'application/json' });
      await userEvent.click(screen.getByRole('link', { name: 'Export cases CSV' }));
      expect(await screen.findByRole('alert')).toHaveTextContent('Export failed: Your session has ended.');
      expect(signIn).toHaveBeenCalledWith(expect.any(String), 'ended');
      expect(save).not.toHaveBeenCalled();
    } finally {
      restore();
    }
  });

  it('says why an export was refused', async () => {
    vi.spyOn(api, 'stats').mockResolvedValue(statsWith({ case_verdicts: agreement(0), flag_verdicts: agreement(0) }));
    renderAt(<StatsPage />);
    await screen.findByTestId('agreement-note');
    reply(403, JSON.stringify({ detail: 'Only coordinators may export.' }), { 'Content-Type': 'application/json' });
    await userEvent.click(screen.getByRole('link', { name: 'Export cases JSON' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Export failed: Only coordinators may export.');
  });
});
