import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { errorMessage } from '../api/errors';
import { keys } from '../api/queries';
import { safeNext } from '../lib/returnTo';
import { homeFor } from '../auth/pages';
import { LOGIN_REASONS } from '../lib/password';
import { PasswordField } from '../components/PasswordField';

export function LoginPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const userRef = useRef<HTMLInputElement>(null);
  const next = safeNext(params.get('next'));
  const expired = params.has('next');
  const reason = LOGIN_REASONS[params.get('reason') ?? ''] ?? null;

  useEffect(() => {
    document.title = 'Sign in · NeuroTriage';
    userRef.current?.focus();
  }, []);

  // the session ended on purpose (e.g. password changed): forget everything cached for it
  useEffect(() => {
    if (reason) qc.clear();
  }, [reason, qc]);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    // said here, in words, rather than as the API's field-by-field 422
    const missing = [!username.trim() && 'username', !password && 'password'].filter(Boolean).join(' and ');
    if (missing) {
      setError(`Enter your ${missing}.`);
      const passwordInput = (e.currentTarget as HTMLFormElement).elements.namedItem('password') as HTMLInputElement | null;
      (username.trim() ? passwordInput : userRef.current)?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const me = await api.login(username.trim(), password);
      qc.clear();
      qc.setQueryData(keys.me, me);
      navigate(next === '/' ? homeFor(me) : next, { replace: true });
    } catch (err) {
      setError(errorMessage(err));
      setPassword('');
      setBusy(false);
    }
  }

  return (
    <main className="login-page">
      <form className="login-card" onSubmit={onSubmit} aria-labelledby="login-title" noValidate>
        <div className="brand brand-large" aria-hidden="true">
          Neuro<span>Triage</span>
        </div>
        <h1 id="login-title">Sign in</h1>
        {reason && !error && (
          <p className="info-box" role="status">
            {reason}
          </p>
        )}
        {expired && !reason && !error && (
          <p className="muted" role="status">
            Please sign in to continue.
          </p>
        )}
        <label className="field">
          <span>Username</span>
          <input
            ref={userRef}
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
          />
        </label>
        <PasswordField
          name="password"
          label="Password"
          autoComplete="current-password"
          value={password}
          onChange={setPassword}
        />
        {error && (
          <div className="error-box" role="alert">
            {error}
          </div>
        )}
        <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
