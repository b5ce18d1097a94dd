// A value a person copies to pass on (a set-password link), with a Copy button.
import { useRef, useState } from 'react';
import { copyText } from './secret-once.tsx';

/** A read-only field with a Copy button and a status line saying whether the copy worked. */
export function CopyField({ id, label, value }: { id: string; label: string; value: string }) {
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'no' | undefined>();
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input id={id} ref={field} readOnly value={value} spellCheck={false} autoComplete="off" onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={async () => setCopied((await copyText(value, field.current)) ? 'yes' : 'no')}>
          Copy
        </button>
      </div>
      <p role="status" className="copy-status">
        {copied === 'yes' ? 'Copied to the clipboard.' : copied === 'no' ? 'Could not copy: select the text and copy it yourself.' : ''}
      </p>
    </>
  );
}
