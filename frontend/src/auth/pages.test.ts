import { describe, expect, it } from 'vitest';
import { homeFor, mayOpen, NAV_ORDER, PAGES } from './pages';

describe('role pages', () => {
  it('gives each role its pages only', () => {
    const clin = { roles: ['clinician'] };
    const coord = { roles: ['coordinator'] };
    const admin = { roles: ['admin'] };
    expect(NAV_ORDER.filter((p) => mayOpen(clin, p)).map((p) => p.title)).toEqual(['Worklist']);
    expect(NAV_ORDER.filter((p) => mayOpen(coord, p)).map((p) => p.title)).toEqual(['Worklist', 'Audit', 'Statistics']);
    expect(NAV_ORDER.filter((p) => mayOpen(admin, p)).map((p) => p.title)).toEqual(['Audit', 'Users']);
    expect(mayOpen(undefined, PAGES.worklist)).toBe(false);
    expect(mayOpen({ roles: [] }, PAGES.users)).toBe(false);
    // the account page is everyone's, and not in the main nav
    for (const r of ['clinician', 'coordinator', 'admin']) expect(mayOpen({ roles: [r] }, PAGES.account)).toBe(true);
    expect(NAV_ORDER).not.toContain(PAGES.account);
  });
  it('lands each role on its first page', () => {
    expect(homeFor({ roles: ['clinician'] })).toBe('/');
    expect(homeFor({ roles: ['admin'] })).toBe('/admin/users');
    expect(homeFor({ roles: ['coordinator'] })).toBe('/');
    expect(homeFor({ roles: ['admin', 'clinician'] })).toBe('/');
    expect(homeFor({ roles: [] })).toBe('/');
  });
});
