import { useEffect, type ReactNode } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router-dom';
import { useQueryClient } from '@tanstack/react-query';
import { setUnauthorizedHandler } from '../api/client';
import { keys, useMe } from '../api/queries';
import { ApiError, errorMessage } from '../api/errors';
import type { Me, Role } from '../api/types';
import { loginPath } from '../lib/returnTo';

/** Routes every 401 from the API to the login page, remembering where the user was. */
export function UnauthorizedBridge() {
  const navigate = useNavigate();
  const qc = useQueryClient();
  useEffect(
    () =>
      setUnauthorizedHandler((returnTo, reason) => {
        qc.cancelQueries();
        qc.removeQueries({ queryKey: keys.me });
        navigate(loginPath(returnTo, reason), { replace: true });
      }),
    [navigate, qc],
  );
  return null;
}

export function FullPageMessage({ children, role }: { children: ReactNode; role?: 'alert' | 'status' }) {
  return (
    <div className="full-page-message" role={role}>
      {children}
    </div>
  );
}

/** Renders children only for a signed-in user; otherwise sends them to the login page. */
export function RequireAuth({ children }: { children: (me: Me) => ReactNode }) {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <FullPageMessage role="status">Loading…</FullPageMessage>;
  if (me.isError) {
    if (me.error instanceof ApiError && me.error.status === 401) {
      return <Navigate to={loginPath(`${location.pathname}${location.search}${location.hash}`)} replace />;
    }
    return (
      <FullPageMessage role="alert">
        <p>Could not load your session: {errorMessage(me.error)}</p>
        <button type="button" onClick={() => void me.refetch()}>
          Retry
        </button>
      </FullPageMessage>
    );
  }
  return <>{children(me.data)}</>;
}

export function hasRole(me: Me | undefined, ...roles: Role[]): boolean {
  return !!me && roles.some((r) => me.roles.includes(r));
}
