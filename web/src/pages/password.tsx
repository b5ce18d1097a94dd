// Settings → Password: change your console password (the current one is asked for when there is one).
// Changing it signs you out of your other sessions; this one stays signed in.
import { useState, type FormEvent } from 'react';
import { put } from '../api/client.ts';
import { NewPasswordFields, useNewPassword } from '../components/new-password.tsx';
import { Done, ErrorNotice } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { useSignedIn } from '../session.tsx';
import { useAction } from '../use-load.ts';

export function PasswordPage() {
  const { user } = useSignedIn();
  // Once a first password is set here, the next change needs it.
  const [hasPassword, setHasPassword] = useState(user.has_password);
  const [current, setCurrent] = useState('');
  const newPassword = useNewPassword();
  const [done, setDone] = useState<string | undefined>();
  const save = useAction((body: { current_password?: string; new_password: string }) => put<void>('/v1/user/password', body));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(undefined);
    if (!newPassword.confirmed()) return;
    const result = await save.run({ ...(hasPassword ? { current_password: current } : {}), new_password: newPassword.password });
    if (!result.ok) return;
    setHasPassword(true);
    setCurrent('');
    newPassword.clear();
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
          <NewPasswordFields {...newPassword.fields} />
          <ErrorNotice error={save.error} />
          <button type="submit" className="primary" disabled={save.busy}>
            {hasPassword ? 'Change password' : 'Set password'}
          </button>
        </form>
      </Section>
    </Page>
  );
}
