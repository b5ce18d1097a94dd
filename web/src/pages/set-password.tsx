// /set-password?token=…: the page a site admin's one-time link opens, signed out. It asks the server
// whose link it is, lets the person choose a password, then sends them to sign in with it. A link that
// is unknown, expired or used gets the server's sentence.
import type { FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ApiError, post } from '../api/client.ts';
import { NewPasswordFields, useNewPassword } from '../components/new-password.tsx';
import { ErrorNotice, Loading } from '../components/notices.tsx';
import { Page } from '../components/page.tsx';
import { When } from '../components/when.tsx';
import { useAction, useLoad } from '../use-load.ts';

export function SetPasswordPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const token = params.get('token') ?? '';
  const link = useLoad(
    () =>
      token
        ? post<{ login: string; expires_at: string }>('/v1/set-password/check', { token })
        : Promise.reject(new ApiError(400, 'This address has no set-password token. Open the whole link the site admin sent you.')),
    [token],
  );
  const newPassword = useNewPassword();
  const save = useAction((new_password: string) => post<{ login: string }>('/v1/set-password', { token, new_password }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!newPassword.confirmed()) return;
    const result = await save.run(newPassword.password);
    if (result.ok) {
      // The link is used up: leave its address, so neither Back nor history leads to it again.
      void navigate('/sign-in', { replace: true, state: { notice: `Your password is set. Sign in as ${result.value.login} with it.`, login: result.value.login } });
    }
  };

  const title = link.data ? `Set a password for ${link.data.login}` : 'Set a password';
  return (
    <main id="main" className="sign-in">
      <Page title={title}>
        {link.loading && !link.data && <Loading what="your set-password link" />}
        <ErrorNotice error={link.error} />
        {link.error && (
          <p>
            <Link to="/sign-in">Go to sign-in</Link>
          </p>
        )}
        {link.data && (
          <form onSubmit={submit} className="stack">
            <p className="hint">
              This link works once, until <When iso={link.data.expires_at} />. Setting a password signs {link.data.login} out everywhere else.
            </p>
            {/* Lets a password manager store the new password under the right login. */}
            <input type="hidden" name="username" autoComplete="username" value={link.data.login} readOnly />
            <NewPasswordFields {...newPassword.fields} />
            <ErrorNotice error={save.error} />
            <button type="submit" className="primary" disabled={save.busy}>
              Set password
            </button>
          </form>
        )}
      </Page>
    </main>
  );
}
