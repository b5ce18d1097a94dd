// A new API key's secret: shown this once, with a copy button, and a plain warning that it cannot be
// shown again (Keysmith keeps only its hash).
import { useEffect, useRef, useState } from 'react';

/** Copies text to the clipboard from a click; false if the browser would not. */
export async function copyText(text: string, field: HTMLInputElement | HTMLTextAreaElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard API (a plain-http address that is not localhost): select the text and use the
    // older command, which still works from a click.
    field?.select();
    return document.execCommand('copy');
  }
}

export function SecretOnce({ name, secret, onDone }: { name: string; secret: string; onDone: () => void }) {
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'no' | undefined>();
  useEffect(() => field.current?.focus(), []);
  return (
    <div className="secret" role="region" aria-labelledby="secret-title">
      <h2 id="secret-title">Copy the key “{name}” now</h2>
      <p className="warning">
        <strong>This is the only time Keysmith shows this key.</strong> It keeps only a hash of it, so it cannot show it again. If you lose it, delete the key and create a new one.
      </p>
      <label htmlFor="new-secret">Your new API key</label>
      <div className="copy-row">
        <input id="new-secret" ref={field} readOnly value={secret} spellCheck={false} autoComplete="off" onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={async () => setCopied((await copyText(secret, field.current)) ? 'yes' : 'no')}>
          Copy
        </button>
      </div>
      <p role="status" className="copy-status">
        {copied === 'yes' ? 'Copied to the clipboard.' : copied === 'no' ? 'Could not copy: select the key and copy it yourself.' : ''}
      </p>
      <button type="button" onClick={onDone}>
        I have copied it
      </button>
    </div>
  );
}
