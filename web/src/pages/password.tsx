// Settings → Password: change your console password (the current one is asked for when there is one).
// Changing it signs you out of your other sessions; this one stays signed in.
import { useState, type FormEvent } from 'react';
import { put } from '../api/client.ts';
import { Done, ErrorNotice } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { useSignedIn } from '../session.tsx';
import { useAction } from '../use-load.ts';

export function PasswordPage() {
  const { user } = useSignedIn();
  // Once a first password is set here, the next change needs it.
  const [hasPassword, setHasPassword] = useState(user.has_password);
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState<string | undefined>();
  const save = useAction((body: { current_password?: string; new_password: string }) => put<void>('/v1/user/password', body));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(undefined);
    setMismatch(password !== again);
    if (password !== again) return;
    const result = await save.run({ ...(hasPassword ? { current_password: current } : {}), new_password: password });
    if (!result.ok) return;
    setHasPassword(true);
    setCurrent('');
    setPassword('');
    setAgain('');
    setDone('Your password is changed. Your other sessions are signed out; this one stays signed in.');
  };

  return (
    <Page title="Password" intro="The password you sign in to this console with. API keys are not affected by a change.">
      <Done>{done}</Done>
      <Section title={hasPassword ? 'Change your password' : 'Set a password'}>
        <form className="stack" onSubmit={submit}>
          <input type="hidden" name="username" autoComplete="username" value={user.login} readOnly />
          {hasPassword && (
            <div className="field">
              <label htmlFor="current-password">Current password</label>
              <input id="current-password" type="password" autoComplete="current-password" required maxLength={1024} value={current} onChange={(e) => setCurrent(e.target.value)} />
            </div>
          )}
          <div className="field">
            <label htmlFor="new-password">New password</label>
            <input
              id="new-password"
              type="password"
              autoComplete="new-password"
              required
              maxLength={1024}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              aria-describedby="new-password-hint"
            />
            <p className="hint" id="new-password-hint">
              A long passphrase is best; Keysmith says if it is too short.
            </p>
          </div>
          <div className="field">
            <label htmlFor="new-password-again">New password again</label>
            <input id="new-password-again" type="password" autoComplete="new-password" required maxLength={1024} value={again} onChange={(e) => setAgain(e.target.value)} />
          </div>
          {mismatch && (
            <div className="notice error" role="alert">
              <p>The two passwords are not the same. Type the new password twice.</p>
            </div>
          )}
          <ErrorNotice error={save.error} />
          <button type="submit" className="primary" disabled={save.busy}>
            {hasPassword ? 'Change password' : 'Set password'}
          </button>
        </form>
      </Section>
    </Page>
  );
}
