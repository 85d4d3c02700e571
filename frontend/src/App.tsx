import { lazy, Suspense, type ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { RequireAuth, UnauthorizedBridge } from './auth/session';
import { CASE_PAGE, homeFor, mayOpen, PAGES, type PageDef } from './auth/pages';
import { AppHeader } from './components/AppHeader';
import { PresenceRefresh } from './components/PresenceRefresh';
import { QueueNotice } from './components/QueueNotice';
import { LoginPage } from './pages/LoginPage';
import { WorklistPage } from './pages/WorklistPage';
import { NotFound } from './pages/NotFound';
import { NotAllowed } from './pages/NotAllowed';

// Large or rarely used pages load on demand: the case page carries NiiVue, statistics carries Chart.js.
const CasePage = lazy(() => import('./pages/CasePage'));
const AuditPage = lazy(() => import('./pages/AuditPage'));
const StatsPage = lazy(() => import('./pages/StatsPage'));
const UsersPage = lazy(() => import('./pages/UsersPage'));
const AccountPage = lazy(() => import('./pages/AccountPage'));


function Shell({ children, page, home }: { children: ReactNode; page?: PageDef; home?: boolean }) {
  return (
    <RequireAuth>
      {(me) => {
        let body: ReactNode = children;
        if (me.password_change_required && page !== PAGES.account) {
          // the service answers nothing else until the user has replaced the password an admin set
          body = <Navigate to={PAGES.account.path} replace />;
        } else if (page && !mayOpen(me, page)) {
          // the start page sends each role to its own first page; other pages say "not allowed"
          const target = homeFor(me);
          body = home && target !== '/' ? <Navigate to={target} replace /> : <NotAllowed me={me} needed={page.roles} />;
        }
        return (
          <div className="app">
            <a className="skip-link" href="#main-content">
              Skip to content
            </a>
            <AppHeader me={me} />
            <PresenceRefresh />
            {/* the service answers nothing else until a required password change is done */}
            <QueueNotice enabled={!me.password_change_required} />
            <div id="main-content" className="app-main">
              <Suspense fallback={<p className="page muted">Loading…</p>}>{body}</Suspense>
            </div>
          </div>
        );
      }}
    </RequireAuth>
  );
}

export function AppRoutes() {
  return (
    <>
      <UnauthorizedBridge />
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route
          path="/"
          element={
            <Shell page={PAGES.worklist} home>
              <WorklistPage />
            </Shell>
          }
        />
        <Route
          path="/cases/:id"
          element={
            <Shell page={CASE_PAGE}>
              <CasePage />
            </Shell>
          }
        />
        <Route
          path={PAGES.audit.path}
          element={
            <Shell page={PAGES.audit}>
              <AuditPage />
            </Shell>
          }
        />
        <Route
          path={PAGES.stats.path}
          element={
            <Shell page={PAGES.stats}>
              <StatsPage />
            </Shell>
          }
        />
        <Route
          path={PAGES.users.path}
          element={
            <Shell page={PAGES.users}>
              <UsersPage />
            </Shell>
          }
        />
        <Route
          path={PAGES.account.path}
          element={
            <Shell page={PAGES.account}>
              <AccountPage />
            </Shell>
          }
        />
        <Route
          path="*"
          element={
            <Shell>
              <NotFound />
            </Shell>
          }
        />
      </Routes>
    </>
  );
}

export function App({ queryClient }: { queryClient: QueryClient }) {
  return (
    <QueryClientProvider client={queryClient}>
      <BrowserRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
        <AppRoutes />
      </BrowserRouter>
    </QueryClientProvider>
  );
}
