import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { errorMessage } from '../api/errors';
import { keys, useMe } from '../api/queries';
import type { NewApiToken } from '../api/types';
import { TokenTable } from '../components/TokenTable';
import { formatDateTime } from '../lib/format';
import { passwordChangedPath, passwordFormError } from '../lib/password';
import { PasswordField } from '../components/PasswordField';
import { useNotice } from '../lib/notice';
import { LiveNotice } from '../components/LiveNotice';

/** Own account, for every role: change password, personal API tokens. */
export default function AccountPage() {
  const me = useMe();
  const [notice, setNotice] = useNotice();
  useEffect(() => {
    document.title = 'Account · NeuroTriage';
  }, []);
  return (
    <main className="page narrow account-page" aria-labelledby="account-title">
      <h1 id="account-title">Account</h1>
      {me.data && (
        <p className="muted">
          Signed in as <strong>{me.data.username}</strong> ({me.data.roles.join(', ')})
        </p>
      )}
      {me.data?.password_change_required && (
        <div className="info-box" role="alert" data-testid="password-change-required">
          An administrator set your password. Choose your own below before you go on; you will then sign in again
          with it.
        </div>
      )}
      <LiveNotice className="save-status" text={notice.text} serial={notice.serial} />
      <PasswordPanel />
      {/* tokens wait for the user's own password (the service refuses them until then) */}
      {me.data && !me.data.password_change_required && <TokensPanel onNotice={setNotice} />}
    </main>
  );
}

function PasswordPanel() {
  const navigate = useNavigate();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const problem = passwordFormError({ current, next, confirm });
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      const changed = await api.changeOwnPassword(current, next);
      // every session ended, this one too, and every API token was revoked: sign in again (the login page says so)
      navigate(passwordChangedPath(changed.tokens_revoked), { replace: true });
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  }

  return (
    <section className="panel" aria-labelledby="pw-title">
      <h2 id="pw-title">Change password</h2>
      <form onSubmit={onSubmit} className="stack-form" noValidate>
        <PasswordField label="Current password" autoComplete="current-password" value={current} onChange={setCurrent} />
        <PasswordField label="New password" autoComplete="new-password" value={next} onChange={setNext} />
        <PasswordField label="Confirm new password" autoComplete="new-password" value={confirm} onChange={setConfirm} />
        {error && (
          <div className="error-box" role="alert">
            {error}
          </div>
        )}
        <p className="muted small" data-testid="password-change-note">
          Changing it ends every session of yours, this browser included, and revokes all your API tokens: create
          new ones after signing in again.
        </p>
        <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
          Change password
        </button>
      </form>
    </section>
  );
}

async function copyText(text: string, fallbackInput: HTMLInputElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall back below */
  }
  if (!fallbackInput) return false;
  fallbackInput.focus();
  fallbackInput.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

// What a new token's lifetime may be (the service allows 1 to 365 days; 90 is its default).
const TOKEN_VALIDITY = [
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
  { days: 365, label: '1 year' },
] as const;

function TokensPanel({ onNotice }: { onNotice: (m: string) => void }) {
  const qc = useQueryClient();
  const tokens = useQuery({ queryKey: keys.myTokens, queryFn: ({ signal }) => api.listMyTokens(signal) });
  const [name, setName] = useState('');
  const [validDays, setValidDays] = useState<number>(TOKEN_VALIDITY[1].days);
  const [created, setCreated] = useState<NewApiToken | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState<string>('');
  const tokenRef = useRef<HTMLInputElement>(null);

  const create = useMutation({
    mutationFn: (n: string) => api.createMyToken(n, validDays),
    onMutate: () => {
      setError(null);
      setCopied('');
    },
    onSuccess: (t) => {
      setCreated(t);
      setName('');
      onNotice(`Token ${t.name} created`);
      void qc.invalidateQueries({ queryKey: keys.myTokens });
    },
    onError: (e) => setError(`Token not created: ${errorMessage(e)}`),
  });
  const revoke = useMutation({
    mutationFn: (t: { id: number; name: string }) => api.revokeMyToken(t.id),
    onMutate: () => setError(null),
    onSuccess: (_v, t) => {
      onNotice(`Token ${t.name} revoked`);
      if (created?.id === t.id) setCreated(null);
      void qc.invalidateQueries({ queryKey: keys.myTokens });
    },
    onError: (e) => setError(`Token not revoked: ${errorMessage(e)}`),
  });

  useEffect(() => {
    if (created) tokenRef.current?.focus();
  }, [created]);

  return (
    <section className="panel" aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      <p className="muted small">For scripts: send it as <code>Authorization: Bearer …</code>. It acts with your roles.</p>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const n = name.trim();
          if (!n) {
            setError('Give the token a name.');
            return;
          }
          if (!create.isPending) create.mutate(n);
        }}
      >
        <label className="field-inline">
          <span>Token name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} placeholder="e.g. PACS bridge" />
        </label>
        <label className="field-inline">
          <span>Valid for</span>
          <select value={validDays} onChange={(e) => setValidDays(Number(e.target.value))}>
            {TOKEN_VALIDITY.map((v) => (
              <option key={v.days} value={v.days}>
                {v.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={create.isPending} aria-busy={create.isPending}>
          Create token
        </button>
      </form>
      {created && (
        <div className="info-box new-token" aria-labelledby="new-token-title">
          <p id="new-token-title">
            <strong>Token {created.name} created.</strong> Copy it now: it is shown only once. It works until{' '}
            {formatDateTime(created.expires_at)}; make a new one before then.
          </p>
          <div className="token-row">
            <label className="field-inline grow">
              <span>New API token</span>
              <input ref={tokenRef} className="mono" readOnly value={created.token} onFocus={(e) => e.target.select()} />
            </label>
            <button
              type="button"
              onClick={() =>
                void copyText(created.token, tokenRef.current).then((ok) =>
                  setCopied(ok ? 'Copied to the clipboard.' : 'Copy failed: select the token and copy it by hand.'),
                )
              }
            >
              Copy token
            </button>
            <button type="button" onClick={() => setCreated(null)}>
              Hide token
            </button>
          </div>
          <p className="muted small" aria-live="polite">
            {copied}
          </p>
        </div>
      )}
      {error && (
        <div className="error-box" role="alert">
          {error}
        </div>
      )}
      {tokens.isPending ? (
        <p className="muted small">Loading tokens…</p>
      ) : tokens.isError ? (
        <div className="error-box" role="alert">
          Could not load your tokens: {errorMessage(tokens.error)}{' '}
          <button type="button" onClick={() => void tokens.refetch()}>
            Retry loading tokens
          </button>
        </div>
      ) : !tokens.data.length ? (
        <p className="muted small">You have no API tokens.</p>
      ) : (
        <TokenTable
          tokens={tokens.data}
          label="Your API tokens"
          onRevoke={(t) => revoke.mutate({ id: t.id, name: t.name })}
          revoking={revoke.isPending}
        />
      )}
    </section>
  );
}
