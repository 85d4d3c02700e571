interface Props {
  label: string;
  value: string;
  onChange: (value: string) => void;
  /** "current-password" for the one the user has, "new-password" for one being chosen. */
  autoComplete: 'current-password' | 'new-password';
  name?: string;
}

/** A labelled, required password input (the label is its accessible name). */
export function PasswordField({ label, value, onChange, autoComplete, name }: Props) {
  return (
    <label className="field">
      <span>{label}</span>
      <input
        name={name}
        type="password"
        autoComplete={autoComplete}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        required
      />
    </label>
  );
}
