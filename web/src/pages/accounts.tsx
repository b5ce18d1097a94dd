// Settings → Accounts: the accounts you belong to, with your role in each, and a new account, which
// anyone signed in may create and becomes the owner of.
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { post, seg } from '../api/client.ts';
import type { Account } from '../api/types.ts';
import { ErrorNotice } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { When } from '../components/when.tsx';
import { roleName } from '../format.ts';
import { useSignedIn } from '../session.tsx';
import { useAction } from '../use-load.ts';

export function AccountsPage() {
  const { accounts, reloadAccounts } = useSignedIn();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const create = useAction(async (account: string) => {
    const created = await post<Account>('/v1/accounts', { name: account });
    await reloadAccounts();
    return created;
  });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const result = await create.run(name.trim());
    if (result.ok) void navigate(`/accounts/${seg(result.value.name)}/members`);
  };

  return (
    <Page title="Accounts" intro="An account holds projects, their keys, service API keys and members, like an organisation on GitHub.">
      <Section title="Your accounts">
        {accounts.length === 0 ? (
          <p>You do not belong to any account yet. Create one below, or ask an account's owner or admin to add you.</p>
        ) : (
          <table>
            <caption>Your accounts</caption>
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">Your role</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {accounts.map((a) => (
                <tr key={a.name}>
                  <td data-label="Account">
                    <Link to={`/accounts/${seg(a.name)}/members`}>{a.name}</Link>
                  </td>
                  <td data-label="Your role">{roleName(a.role)}</td>
                  <td data-label="Created">
                    <When iso={a.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Create an account">
        <form className="stack" onSubmit={submit}>
          <div className="field">
            <label htmlFor="account-name">Account name</label>
            <input id="account-name" required maxLength={39} autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} aria-describedby="account-name-hint" />
            <p className="hint" id="account-name-hint">
              Usually your organisation's name on GitHub or Bitbucket, which its projects' addresses use. You become its owner.
            </p>
          </div>
          <ErrorNotice error={create.error} />
          <button type="submit" className="primary" disabled={create.busy}>
            Create account
          </button>
        </form>
      </Section>
    </Page>
  );
}
