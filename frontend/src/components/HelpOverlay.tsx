import { useEffect, useRef } from 'react';
import { KEY_HELP } from '../lib/keymap';

export function HelpOverlay({ onClose }: { onClose: () => void }) {
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const prev = document.activeElement as HTMLElement | null;
    closeRef.current?.focus();
    return () => prev?.focus?.();
  }, []);
  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby="help-title"
        onClick={(e) => e.stopPropagation()}
        onKeyDown={(e) => {
          // modal: Tab stays in the dialog (Close is its one control) instead of walking the page behind it
          if (e.key === 'Tab') {
            e.preventDefault();
            closeRef.current?.focus();
          }
        }}
      >
        <h2 id="help-title">Keyboard shortcuts</h2>
        <table className="keys">
          <tbody>
            {KEY_HELP.map((k) => (
              <tr key={k.description}>
                <th scope="row">
                  {k.keys.map((key, i) => (
                    <span key={key}>
                      {i > 0 && ' / '}
                      <kbd>{key}</kbd>
                    </span>
                  ))}
                </th>
                <td>{k.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted small">Mouse: left click moves the crosshair, right drag sets window/level, scroll changes slice.</p>
        <button ref={closeRef} type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
