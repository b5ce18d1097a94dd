// A one-time set-password link a site admin has just issued: shown with a copy button and its expiry,
// to be passed on to the user. Keysmith keeps only a hash of it, so it is shown this once.
import { useEffect, useRef } from 'react';
import type { PasswordLink } from '../api/types.ts';
import { CopyField } from './copy.tsx';
import { When } from './when.tsx';

export function PasswordLinkPanel({ login, link, onDone }: { login: string; link: PasswordLink; onDone: () => void }) {
  const region = useRef<HTMLDivElement>(null);
  useEffect(() => region.current?.querySelector('input')?.focus(), [link.url]);
  return (
    <div className="secret" role="region" aria-labelledby="password-link-title" ref={region}>
      <h2 id="password-link-title">Set-password link for {login}</h2>
      <p>
        Send this link to {login} privately. It works once, until <When iso={link.expires_at} />; whoever opens it can set {login}'s password. Keysmith shows it only now. Issuing a new link voids this
        one.
      </p>
      <CopyField id="password-link" label="Set-password link" value={link.url} />
      <button type="button" onClick={onDone}>
        Done
      </button>
    </div>
  );
}
