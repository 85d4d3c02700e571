import type { Me, Role } from '../api/types';

/** Which role may open which page: the one table the router, the nav and the landing page use. */
export interface PageDef {
  path: string;
  title: string;
  roles: Role[];
}

export const PAGES = {
  worklist: { path: '/', title: 'Worklist', roles: ['clinician', 'coordinator'] },
  audit: { path: '/audit', title: 'Audit', roles: ['coordinator', 'admin'] },
  stats: { path: '/stats', title: 'Statistics', roles: ['coordinator'] },
  users: { path: '/admin/users', title: 'Users', roles: ['admin'] },
  /** every role: own password and API tokens (linked from the header, not the main nav) */
  account: { path: '/account', title: 'Account', roles: ['clinician', 'coordinator', 'admin'] },
} satisfies Record<string, PageDef>;

/** The case page (/cases/:id): readers of cases only; not in the main nav. */
export const CASE_PAGE: PageDef = { path: '/cases/:id', title: 'Case', roles: ['clinician', 'coordinator'] };

export const NAV_ORDER: PageDef[] = [PAGES.worklist, PAGES.audit, PAGES.stats, PAGES.users];

export function mayOpen(me: Pick<Me, 'roles'> | undefined, page: PageDef): boolean {
  return !!me && page.roles.some((r) => me.roles.includes(r));
}

const LANDING_ORDER: PageDef[] = [PAGES.worklist, PAGES.users, PAGES.audit, PAGES.stats];

/** Where a user lands after signing in when no page was remembered. */
export function homeFor(me: Pick<Me, 'roles'>): string {
  return LANDING_ORDER.find((p) => mayOpen(me, p))?.path ?? '/';
}
