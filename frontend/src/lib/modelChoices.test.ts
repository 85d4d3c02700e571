import { describe, expect, it } from 'vitest';
import { catalogueOf } from '../test/models';
import { firstAvailable, profileChoices, sequenceChoices } from './modelChoices';

const catalogue = catalogueOf([
  ['fast', 't1'],
  ['fast', 'flair'],
]);

describe('model choices', () => {
  it('offers fast and paper while no worker has reported', () => {
    const empty = { default_profile: 'fast', reported_at: null, models: [], checks_only_sequences: [] };
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
  });

  it('offers every profile for the rescan checks alone where no profile reads the sequence', () => {
    expect(profileChoices(catalogue, 't2')).toEqual([
      { value: 'fast', available: true, checksOnly: true, note: 'rescan checks only' },
      { value: 'paper', available: true, checksOnly: true, note: 'rescan checks only' },
    ]);
  });

  it('offers an upload sequence no profile reads for the rescan checks alone', () => {
    expect(sequenceChoices(catalogue)).toEqual([
      { value: 't1', available: true },
      { value: 't2', available: true, checksOnly: true, note: 'rescan checks only' },
      { value: 'flair', available: true },
    ]);
  });

  it('disables an upload sequence only another profile reads: uploads run the default profile', () => {
    const paperOnly = catalogueOf([
      ['fast', 't1'],
      ['paper', 'flair'],
    ]);
    expect(sequenceChoices(paperOnly).map((c) => [c.value, c.available, c.note])).toEqual([
      ['t1', true, undefined],
      ['t2', true, 'rescan checks only'],
      ['flair', false, 'no fast-profile model installed'],
    ]);
  });

  it('starts from the preferred choice only when it can be chosen', () => {
    const choices = profileChoices(catalogue, 't1');
    expect(firstAvailable(choices, 'paper')).toBe('fast');
    expect(firstAvailable(choices, 'fast')).toBe('fast');
    const noProfile = catalogueOf([['paper', 't1']]);
    expect(firstAvailable(profileChoices({ ...noProfile, checks_only_sequences: [] }, 't2'), 'fast')).toBeUndefined();
  });
});
