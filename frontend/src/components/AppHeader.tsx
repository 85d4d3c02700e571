import { useState } from 'react';
import { Link, NavLink, useNavigate } from 'react-router-dom';
import { useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import type { Me } from '../api/types';
import { mayOpen, NAV_ORDER, PAGES } from '../auth/pages';
import { clearDrafts } from '../lib/caseDraft';
import { releaseOpenClaims } from '../lib/useCaseSession';

export function AppHeader({ me }: { me: Me }) {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [busy, setBusy] = useState(false);

  async function signOut() {
    setBusy(true);
    // a case open in this tab: give its claim up first, while the session can still authorise the request
    // (leaving the case page would send it only after the logout, and get 401)
    await releaseOpenClaims();
    try {
      await api.logout();
    } catch {
      /* the session may already be gone; sign out locally regardless */
    }
    qc.clear();
    // signing out on purpose: leave no unsaved review text in the tab (an expired session keeps it)
    clearDrafts();
    navigate('/login', { replace: true });
  }

  return (
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
        <button type="button" onClick={signOut} disabled={busy}>
          Sign out
        </button>
      </div>
    </header>
  );
}
