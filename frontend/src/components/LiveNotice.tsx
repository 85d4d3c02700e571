/**
 * A polite status line whose every notice is read out, even one worded as the one before it: the text sits in an
 * element keyed by `serial` (one more for each notice given, as useCaseNotice counts them), so a new notice replaces that
 * element, and screen readers announce the added one. Setting the same text again would change nothing.
 */
export function LiveNotice({
  text,
  serial,
  className,
  inline = false,
}: {
  text: string;
  serial: number;
  className?: string;
  /** a span, for a line inside a row of text (a page title's) */
  inline?: boolean;
}) {
  const Line = inline ? 'span' : 'div';
  return (
    <Line className={className} role="status">
      <span key={serial}>{text}</span>
    </Line>
  );
}
