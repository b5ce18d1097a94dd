// A key's public half, shown in full with a copy button: whoever registers it on another Git host (a
// deploy key on GitHub, an authorized_keys line on a deployment host) needs the whole line.
import { useId, useRef, useState } from 'react';
import { copyText } from './secret-once.tsx';

export function PublicKey({ value, label, rows = 2 }: { value: string; label: string; rows?: number }) {
  const id = useId();
  const field = useRef<HTMLTextAreaElement>(null);
  const [copied, setCopied] = useState<'yes' | 'no' | undefined>();
  return (
    <div className="public-key-block">
      <label htmlFor={id} className="visually-hidden">
        {label}
      </label>
      <div className="public-key">
        <textarea id={id} ref={field} readOnly rows={rows} spellCheck={false} value={value} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" aria-label={`Copy ${label.charAt(0).toLowerCase()}${label.slice(1)}`} onClick={async () => setCopied((await copyText(value, field.current)) ? 'yes' : 'no')}>
          Copy
        </button>
      </div>
      <p role="status" className="hint">
        {copied === 'yes' ? 'Copied to the clipboard.' : copied === 'no' ? 'Could not copy: select the key and copy it yourself.' : ''}
      </p>
    </div>
  );
}
