import type { Choice } from '../lib/modelChoices';

/** The `<option>`s of a sequence choice: T1, T2, FLAIR, each disabled with its reason where no model reads it. */
export function SequenceOptions({ sequences }: { sequences: Choice[] }) {
  return (
    <>
      {sequences.map((s) => (
        <option key={s.value} value={s.value} disabled={!s.available}>
          {s.value.toUpperCase()}
          {s.note ? ` (${s.note})` : ''}
        </option>
      ))}
    </>
  );
}
