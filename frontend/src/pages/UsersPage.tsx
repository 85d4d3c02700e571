import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { errorMessage } from '../api/errors';
import type { Role, User } from '../api/types';
import { TokenTable } from '../components/TokenTable';
import { formatDateTime } from '../lib/format';
import { keys, useMe } from '../api/queries';
import { PasswordField } from '../components/PasswordField';
import { InstalledModelsPanel } from '../components/InstalledModelsPanel';
import { StoragePanel } from '../components/StoragePanel';
import { WorkersPanel } from '../components/WorkersPanel';
import { useNotice } from '../lib/notice';
import { LiveNotice } from '../components/LiveNotice';

const ROLES: Role[] = ['clinician', 'coordinator', 'admin'];
/** What the create form starts with, and returns to once a user is created (the next user is someone else). */
const NEW_USER_ROLES: Role[] = ['clinician'];
const toRoles = (list: string[]): Role[] => ROLES.filter((r) => list.includes(r));
const usersKey = ['users'] as const;
export const LAST_ROLE_TITLE = 'A user needs at least one role';
export const OWN_PASSWORD_TITLE = 'Change your own password on the Account page (it asks for your current password)';
/** What was saved, and which box it came from: the full list alone leaves the admin to work out what changed. */
export const rolesSavedText = (username: string, roles: readonly string[], before: readonly string[]) => {
  const added = roles.filter((r) => !before.includes(r));
  const removed = before.filter((r) => !roles.includes(r));
  const change = [...added.map((r) => `${r} added`), ...removed.map((r) => `${r} removed`)].join(', ');
  return `Roles of ${username}: ${roles.join(', ') || 'none'}${change ? ` (${change})` : ''}.`;
};
/** What losing the admin role takes away: said before it is removed, as disabling a user is. */
export const removeAdminText = (u: Pick<User, 'username' | 'roles'>) => {
  const kept = toRoles([...u.roles]).filter((r) => r !== 'admin');
  const accounts = 'manage user accounts (roles, passwords, API tokens)';
  const system = 'see the models, workers and storage';
  // a coordinator reads the audit trail anyway
  const lost = kept.includes('coordinator')
    ? `${accounts} or ${system}`
    : `${accounts}, ${system}, or read the audit trail`;
  const keeps = kept.length ? ` They keep the ${kept.join(' and ')} role${kept.length === 1 ? '' : 's'}.` : '';
  return `${u.username} will no longer be able to ${lost}.${keeps} You can give the admin role back later.`;
};
/** What a reset does besides setting the password (the server ends the sessions and revokes the tokens). */
export const resetDoneText = (username: string, tokensRevoked: number) => {
  const tokens =
    tokensRevoked === 0 ? '' : ` ${tokensRevoked} API token${tokensRevoked === 1 ? ' was' : 's were'} revoked,`;
  return `Password of ${username} reset: their sessions ended,${tokens} and they choose their own password when they ` +
    'next sign in.';
};
/** The one role still ticked: unticking it would leave a user with none, which the server refuses. */
const isLastRole = (roles: readonly string[], r: Role): boolean => {
  const known = toRoles([...roles]);
  return known.length === 1 && known[0] === r;
};

export default function UsersPage() {
  const qc = useQueryClient();
  const me = useMe();
  const users = useQuery({ queryKey: usersKey, queryFn: ({ signal }) => api.listUsers(signal) });
  const [notice, setNotice] = useNotice();
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    document.title = 'Users · NeuroTriage';
  }, []);

  const done = (msg: string) => {
    setError(null);
    setNotice(msg);
    void qc.invalidateQueries({ queryKey: usersKey });
  };
  const failed = (e: unknown) => {
    setNotice('');
    setError(errorMessage(e));
  };

  const update = useMutation({
    mutationFn: (v: { user: User; disabled?: boolean; roles?: string[] }) =>
      api.updateUser(v.user.id, { disabled: v.disabled, roles: v.roles ? toRoles(v.roles) : undefined }),
    onSuccess: (u, v) => {
      qc.setQueryData<User[]>(usersKey, (list) => list?.map((x) => (x.id === u.id ? u : x)));
      // one's own roles changed: the nav and the pages one may open follow them now, not at the next reload
      if (u.id === me.data?.id) void qc.invalidateQueries({ queryKey: keys.me, exact: true });
      done(
        v.disabled !== undefined
          ? `${u.username} ${u.disabled ? 'disabled' : 'enabled'}.`
          : rolesSavedText(u.username, u.roles, v.user.roles),
      );
    },
    onError: failed,
  });

  return (
    <main className="page" aria-labelledby="users-title">
      <div className="page-title-row">
        <h1 id="users-title">Users</h1>
        <LiveNotice className="save-status" text={notice.text} serial={notice.serial} inline />
      </div>
      {error && (
        <div className="error-box" role="alert">
          {error}
        </div>
      )}
      <CreateUserForm onDone={done} onError={failed} />

      <section className="panel" aria-label="Accounts">
        {users.isPending && <p className="muted">Loading users…</p>}
        {users.isError && (
          <div className="error-box" role="alert">
            Could not load users: {errorMessage(users.error)}
          </div>
        )}
        {users.data && (
          <table className="grid">
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Roles</th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((u) => (
                <UserRow
                  key={u.id}
                  u={u}
                  self={me.data?.id === u.id}
                  busy={update.isPending}
                  onRoles={(roles) => update.mutate({ user: u, roles })}
                  onDisabled={(disabled) => update.mutate({ user: u, disabled })}
                  onDone={done}
                  onError={failed}
                />
              ))}
            </tbody>
          </table>
        )}
      </section>
      <InstalledModelsPanel />
      <WorkersPanel />
      <StoragePanel />
    </main>
  );
}

function CreateUserForm({ onDone, onError }: { onDone: (m: string) => void; onError: (e: unknown) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<Role[]>(NEW_USER_ROLES);
  const create = useMutation({
    mutationFn: () => api.createUser({ username: username.trim(), password, roles }),
    onSuccess: (u) => {
      setUsername('');
      setPassword('');
      setRoles(NEW_USER_ROLES);
      onDone(`User ${u.username} created: they choose their own password when they first sign in.`);
    },
    onError,
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }
  return (
    <section className="panel" aria-labelledby="create-user-title">
      <h2 id="create-user-title">Create user</h2>
      <form className="upload-form" onSubmit={submit}>
        <label className="field">
          <span>New username</span>
          <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" required />
        </label>
        <PasswordField label="Initial password" autoComplete="new-password" value={password} onChange={setPassword} />
        <fieldset className="roles">
          <legend>Roles</legend>
          {ROLES.map((r) => (
            <label key={r} className="check" title={isLastRole(roles, r) ? LAST_ROLE_TITLE : undefined}>
              <input
                type="checkbox"
                checked={roles.includes(r)}
                disabled={isLastRole(roles, r)}
                onChange={(e) => setRoles((rs) => (e.target.checked ? [...rs, r] : rs.filter((x) => x !== r)))}
              />
              <span>{r}</span>
            </label>
          ))}
          {/* said, not only in a tooltip: keyboard and screen-reader users get no title */}
          <span className="muted small">{LAST_ROLE_TITLE}: the last one ticked stays ticked.</span>
        </fieldset>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create user
        </button>
      </form>
    </section>
  );
}

interface RowProps {
  u: User;
  self: boolean;
  busy: boolean;
  onRoles: (roles: string[]) => void;
  onDisabled: (disabled: boolean) => void;
  onDone: (m: string) => void;
  onError: (e: unknown) => void;
}

function UserRow({ u, self, busy, onRoles, onDisabled, onDone, onError }: RowProps) {
  const [resetOpen, setResetOpen] = useState(false);
  const [tokensOpen, setTokensOpen] = useState(false);
  const [confirmDisable, setConfirmDisable] = useState(false);
  const [confirmUnadmin, setConfirmUnadmin] = useState(false);
  const [pw, setPw] = useState('');
  const reset = useMutation({
    mutationFn: () => api.resetPassword(u.id, pw),
    onSuccess: (changed) => {
      setPw('');
      setResetOpen(false);
      onDone(resetDoneText(u.username, changed.tokens_revoked));
    },
    onError,
  });
  return (
    <>
      <tr data-user-id={u.id} data-username={u.username} className={u.disabled ? 'row-disabled' : undefined}>
        <th scope="row">{u.username}</th>
        <td>
          <span className="role-checks">
            {ROLES.map((r) => {
              const ownAdmin = self && r === 'admin';
              const last = isLastRole(u.roles, r);
              const why = ownAdmin ? 'You cannot remove your own admin role' : last ? LAST_ROLE_TITLE : undefined;
              return (
              <label key={r} className="check" title={why}>
                <input
                  type="checkbox"
                  aria-label={`${r} role for ${u.username}`}
                  title={why}
                  checked={u.roles.includes(r)}
                  disabled={busy || ownAdmin || last}
                  onChange={(e) => {
                    // losing the admin role takes away the Users page and every account action, so it asks first
                    if (r === 'admin' && !e.target.checked) setConfirmUnadmin((o) => !o);
                    else onRoles(e.target.checked ? [...u.roles, r] : u.roles.filter((x) => x !== r));
                  }}
                />
                <span aria-hidden="true">{r}</span>
              </label>
              );
            })}
          </span>
        </td>
        <td>
          {u.disabled ? <span className="badge badge-warn">disabled</span> : 'active'}
          {u.password_change_required && (
            <>
              {' '}
              <span className="badge" title="The password is still the one an admin set: the user chooses their own at sign-in">
                password to change
              </span>
            </>
          )}
        </td>
        <td className="nowrap">{formatDateTime(u.created_at)}</td>
        <td className="actions">
          <button
            type="button"
            disabled={busy || self}
            aria-expanded={u.disabled ? undefined : confirmDisable}
            // enabling is undone as easily; disabling signs the user out everywhere, so it asks first
            onClick={() => (u.disabled ? onDisabled(false) : setConfirmDisable((o) => !o))}
            title={self ? 'You cannot disable yourself' : undefined}
          >
            {u.disabled ? `Enable ${u.username}` : `Disable ${u.username}`}
          </button>
          <button
            type="button"
            aria-expanded={resetOpen}
            onClick={() => setResetOpen((o) => !o)}
            disabled={self}
            title={self ? OWN_PASSWORD_TITLE : undefined}
          >
            Reset password for {u.username}
          </button>
          <button type="button" aria-expanded={tokensOpen} onClick={() => setTokensOpen((o) => !o)}>
            API tokens of {u.username}
          </button>
        </td>
      </tr>
      {confirmDisable && !u.disabled && (
        <tr>
          <td colSpan={5}>
            <div className="inline-form" role="group" aria-label={`Disable ${u.username}?`}>
              <span className="small">
                {u.username} will no longer be able to sign in: every session of theirs ends, their API tokens are
                revoked and the cases they have open are freed. You can enable the account again later.
              </span>
              <button
                type="button"
                className="danger"
                disabled={busy}
                onClick={() => {
                  setConfirmDisable(false);
                  onDisabled(true);
                }}
              >
                Disable {u.username} now
              </button>
              <button type="button" onClick={() => setConfirmDisable(false)}>
                Cancel
              </button>
            </div>
          </td>
        </tr>
      )}
      {confirmUnadmin && u.roles.includes('admin') && (
        <tr>
          <td colSpan={5}>
            <div className="inline-form" role="group" aria-label={`Remove the admin role from ${u.username}?`}>
              <span className="small">{removeAdminText(u)}</span>
              <button
                type="button"
                className="danger"
                disabled={busy}
                onClick={() => {
                  setConfirmUnadmin(false);
                  onRoles(u.roles.filter((x) => x !== 'admin'));
                }}
              >
                Remove the admin role from {u.username} now
              </button>
              <button type="button" onClick={() => setConfirmUnadmin(false)}>
                Cancel
              </button>
            </div>
          </td>
        </tr>
      )}
      {resetOpen && (
        <tr>
          <td colSpan={5}>
            <form
              className="inline-form"
              onSubmit={(e) => {
                e.preventDefault();
                reset.mutate();
              }}
            >
              <label className="field-inline">
                <span>New password for {u.username}</span>
                <input type="password" value={pw} onChange={(e) => setPw(e.target.value)} autoComplete="new-password" required />
              </label>
              <button type="submit" className="primary" disabled={reset.isPending || !pw}>
                Set password
              </button>
              <button type="button" onClick={() => setResetOpen(false)}>
                Cancel
              </button>
              <span className="muted small">
                Ends every session of {u.username} and revokes their API tokens; they choose their own password when
                they next sign in.
              </span>
            </form>
          </td>
        </tr>
      )}
      {tokensOpen && (
        <tr>
          <td colSpan={5}>
            <UserTokens u={u} onDone={onDone} onError={onError} />
          </td>
        </tr>
      )}
    </>
  );
}

function UserTokens({ u, onDone, onError }: { u: User; onDone: (m: string) => void; onError: (e: unknown) => void }) {
  const qc = useQueryClient();
  const key = ['users', u.id, 'tokens'];
  const tokens = useQuery({ queryKey: key, queryFn: ({ signal }) => api.listUserTokens(u.id, signal) });
  const revoke = useMutation({
    mutationFn: (tokenId: number) => api.revokeUserToken(u.id, tokenId),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: key });
      onDone(`Token of ${u.username} revoked.`);
    },
    onError,
  });
  if (tokens.isPending) return <p className="muted small">Loading tokens…</p>;
  if (tokens.isError) return <p role="alert">Could not load tokens: {errorMessage(tokens.error)}</p>;
  if (!tokens.data.length) return <p className="muted small">{u.username} has no API tokens.</p>;
  return (
    <TokenTable
      tokens={tokens.data}
      label={`API tokens of ${u.username}`}
      onRevoke={(t) => revoke.mutate(t.id)}
      revoking={revoke.isPending}
    />
  );
}
