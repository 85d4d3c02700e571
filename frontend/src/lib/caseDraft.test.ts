import { afterEach, describe, expect, it } from 'vitest';
import { clearDrafts, draftKey, loadDraft, saveDraftPart } from './caseDraft';

afterEach(() => sessionStorage.clear());

describe('case drafts', () => {
  it('keeps the case verdict and the reasons per reader and case, and removes each part on its own', () => {
    saveDraftPart('clin', 5, { caseVerdict: { verdict: 'normal', comment: 'looks fine' } });
    saveDraftPart('clin', 5, { reasons: { 51: 'vessel' } });
    expect(loadDraft('clin', 5)).toEqual({
      caseVerdict: { verdict: 'normal', comment: 'looks fine' },
      reasons: { 51: 'vessel' },
    });
    // another reader or another case: nothing
    expect(loadDraft('other', 5)).toEqual({});
    expect(loadDraft('clin', 6)).toEqual({});

    saveDraftPart('clin', 5, { caseVerdict: undefined });
    expect(loadDraft('clin', 5)).toEqual({ reasons: { 51: 'vessel' } });
    saveDraftPart('clin', 5, { reasons: {} });
    expect(loadDraft('clin', 5)).toEqual({});
    expect(sessionStorage.getItem(draftKey('clin', 5))).toBeNull();
  });

  it("keeps a missed finding's comment beside the other parts", () => {
    saveDraftPart('clin', 5, { reasons: { 51: 'vessel' } });
    saveDraftPart('clin', 5, { findingComment: 'left hippocampus' });
    expect(loadDraft('clin', 5)).toEqual({ reasons: { 51: 'vessel' }, findingComment: 'left hippocampus' });
    saveDraftPart('clin', 5, { reasons: {} });
    saveDraftPart('clin', 5, { findingComment: undefined });
    expect(sessionStorage.getItem(draftKey('clin', 5))).toBeNull();
  });

  it('ignores unreadable or foreign content', () => {
    sessionStorage.setItem(draftKey('clin', 5), '{not json');
    expect(loadDraft('clin', 5)).toEqual({});
    sessionStorage.setItem(
      draftKey('clin', 5),
      JSON.stringify({ caseVerdict: { verdict: 'bogus', comment: 'c' }, reasons: { x: 'no', 7: 3, 8: 'ok' } }),
    );
    expect(loadDraft('clin', 5)).toEqual({ caseVerdict: { verdict: null, comment: 'c' }, reasons: { 8: 'ok' } });
  });

  it('clears every draft of the tab, and nothing else, on sign-out', () => {
    saveDraftPart('clin', 5, { reasons: { 1: 'a' } });
    saveDraftPart('other', 6, { caseVerdict: { verdict: null, comment: 'x' } });
    sessionStorage.setItem('neurotriage.worklist', 'keep');
    clearDrafts();
    expect(loadDraft('clin', 5)).toEqual({});
    expect(loadDraft('other', 6)).toEqual({});
    expect(sessionStorage.getItem('neurotriage.worklist')).toBe('keep');
  });
});
