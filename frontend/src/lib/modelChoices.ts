import type { ModelCatalogue } from '../api/types';

/** Profiles offered while no worker has reported what it can run; the server has the last word. */
export const FALLBACK_PROFILES = ['fast', 'paper'] as const;
export const SEQUENCES = ['t1', 't2', 'flair'] as const;
export type Sequence = (typeof SEQUENCES)[number];

export interface Choice {
  value: string;
  available: boolean;
  /** why it cannot be chosen, or what it will do, for the option's text and tooltip */
  note?: string;
  /** chosen, it gets the rescan checks alone: no model reads this sequence, nothing is screened for lesions */
  checksOnly?: boolean;
}

const label = (sequence: string) => sequence.toUpperCase();

/** Whether the workers have reported; an empty or missing catalogue means "offer everything". */
function reported(catalogue: ModelCatalogue | undefined): catalogue is ModelCatalogue {
  return !!catalogue && catalogue.models.length > 0;
}

/** Re-run menu: every reported profile for the case's sequence, those without a model disabled; where no profile
 * reads the sequence, each runs the rescan checks alone (as the server will). */
export function profileChoices(catalogue: ModelCatalogue | undefined, sequence: string): Choice[] {
  if (!reported(catalogue)) return FALLBACK_PROFILES.map((value) => ({ value, available: true }));
  const profiles = [...new Set(catalogue.models.map((m) => m.profile))];
  if (catalogue.checks_only_sequences.includes(sequence)) {
    return profiles.map((value) => ({ value, available: true, checksOnly: true, note: 'rescan checks only' }));
  }
  return profiles.map((value) => {
    const model = catalogue.models.find((m) => m.profile === value && m.sequence === sequence);
    return model?.available
      ? { value, available: true }
      : { value, available: false, note: `no ${label(sequence)} model installed` };
  });
}

/** Upload form: each sequence. One that no profile reads gets the rescan checks alone (the server's
 * ``checks_only_sequences``); one that only another profile reads is disabled, since uploads run the default. */
export function sequenceChoices(catalogue: ModelCatalogue | undefined): Choice[] {
  if (!reported(catalogue)) return SEQUENCES.map((value) => ({ value, available: true }));
  return SEQUENCES.map((value) => {
    if (catalogue.checks_only_sequences.includes(value)) {
      return { value, available: true, checksOnly: true, note: 'rescan checks only' };
    }
    const model = catalogue.models.find((m) => m.profile === catalogue.default_profile && m.sequence === value);
    return model?.available
      ? { value, available: true }
      : { value, available: false, note: `no ${catalogue.default_profile}-profile model installed` };
  });
}

/** The option to start from: the preferred one if it can be chosen, else the first that can, else none. */
export function firstAvailable(choices: Choice[], preferred: string): string | undefined {
  return choices.find((c) => c.available && c.value === preferred)?.value ?? choices.find((c) => c.available)?.value;
}
