import { useRef, useState } from 'react';
import { Link, NavLink, useNavigate } from 'react-router-dom';
import { useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { ApiError, errorMessage } from '../api/errors';
import type { Me } from '../api/types';
import { mayOpen, NAV_ORDER, PAGES } from '../auth/pages';
import { clearDrafts } from '../lib/caseDraft';
import { prepareSignOut, signOutFailed } from '../lib/useCaseSession';

export function AppHeader({ me }: { me: Me }) {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [busy, setBusy] = useState(false);
  const signingOut = useRef(false);
  const [signOutError, setSignOutError] = useState<string | null>(null);

  async function signOut() {
    if (signingOut.current) return;
    signingOut.current = true;
    setBusy(true);
    setSignOutError(null);
    // a case open in this tab: report its review time and give its claim up first, while the session can still
    // authorise the requests (leaving the case page would send them only after the logout, and get 401)
    await prepareSignOut().catch(() => undefined); // best effort: a claim also lapses on its own
    try {
      await api.logout();
    } catch (e) {
      // 401: the session was already gone, which is what signing out wants. Anything else (no connection, a
      // server error) leaves the session cookie valid: going to the sign-in page would look signed out while
      // the next person at this workstation could carry on as this user.
      if (!(e instanceof ApiError && e.status === 401)) {
        setSignOutError(`Sign-out failed, you are still signed in: ${errorMessage(e)}`);
        signOutFailed(); // the open case's claim was given up for the sign-out: say so there; its clock runs again
        signingOut.current = false;
        setBusy(false);
        return;
      }
    }
    qc.clear();
    // signing out on purpose: leave no unsaved review text in the tab (an expired session keeps it)
    clearDrafts();
    navigate('/login', { replace: true });
  }

  return (
    <>
      <header className="app-header">
        <Link to="/" className="brand" aria-label="NeuroTriage home">
          Neuro<span>Triage</span>
        </Link>
        <nav aria-label="Main">
          {NAV_ORDER.filter((p) => mayOpen(me, p)).map((p) => (
            <NavLink key={p.path} to={p.path} end={p.path === '/'}>
              {p.title}
            </NavLink>
          ))}
        </nav>
        <div className="header-user">
          <span className="user-name" data-testid="user-name">
            {me.username}
          </span>
          <span className="user-roles muted">{me.roles.join(', ')}</span>
          <NavLink to={PAGES.account.path} className="account-link">
            Account
          </NavLink>
          {/* aria-disabled while signing out: a failed sign-out leaves the focus where the reader pressed */}
          <button type="button" onClick={() => void signOut()} aria-disabled={busy || undefined}>
            Sign out
          </button>
        </div>
      </header>
      {signOutError && (
        <div className="error-box sign-out-error" role="alert">
          {signOutError}{' '}
          <button type="button" onClick={() => void signOut()} aria-disabled={busy || undefined}>
            Retry sign-out
          </button>
        </div>
      )}
    </>
  );
}
