import { describe, expect, it } from 'vitest';
import { catalogueOf } from '../test/models';
import { firstAvailable, profileChoices, sequenceChoices } from './modelChoices';

const catalogue = catalogueOf([
  ['fast', 't1'],
  ['fast', 'flair'],
]);

describe('model choices', () => {
  it('offers fast and paper while no worker has reported', () => {
    const empty = { default_profile: 'fast', reported_at: null, models: [] };
    expect(profileChoices(empty, 't1').map((c) => [c.value, c.available])).toEqual([
      ['fast', true],
      ['paper', true],
    ]);
    expect(sequenceChoices(undefined).every((c) => c.available)).toBe(true);
  });

  it('disables a profile without a model for the case sequence and says why', () => {
    expect(profileChoices(catalogue, 't1')).toEqual([
      { value: 'fast', available: true },
      { value: 'paper', available: false, note: 'no T1 model installed' },
    ]);
    expect(profileChoices(catalogue, 't2').every((c) => !c.available)).toBe(true);
  });

  it('disables an upload sequence the default profile cannot analyse', () => {
    expect(sequenceChoices(catalogue).map((c) => [c.value, c.available])).toEqual([
      ['t1', true],
      ['t2', false],
      ['flair', true],
    ]);
  });

  it('starts from the preferred choice only when it can be chosen', () => {
    const choices = profileChoices(catalogue, 't1');
    expect(firstAvailable(choices, 'paper')).toBe('fast');
    expect(firstAvailable(choices, 'fast')).toBe('fast');
    expect(firstAvailable(profileChoices(catalogue, 't2'), 'fast')).toBeUndefined();
  });
});
