// Account → Members: who belongs to the account and with which role. Owners and admins add people,
// change roles (only owners make or unmake owners) and remove them; the server decides and says why not.
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { del, get, put, seg } from '../api/client.ts';
import type { Member, MemberRole } from '../api/types.ts';
import { memberRoles } from '../../../src/modules/access/roles.ts';
import { ConfirmButton } from '../components/confirm.tsx';
import { roleDescription, roleName } from '../format.ts';
import { Done, ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { When } from '../components/when.tsx';
import { useAccountRole, useSignedIn } from '../session.tsx';
import { useAction, useLoad } from '../use-load.ts';
import { ActionsHeader } from '../components/actions-header.tsx';

export function MembersPage() {
  const { account = '' } = useParams();
  const { user, reloadAccounts } = useSignedIn();
  const navigate = useNavigate();
  const { role: myRole, can } = useAccountRole(account);
  const members = useLoad(() => get<Member[]>(`/v1/accounts/${seg(account)}/members`), [account]);
  const [done, setDone] = useState<string | undefined>();
  const [login, setLogin] = useState('');
  const [role, setRole] = useState<MemberRole>('read_only');
  const manages = can('member.manage');
  const putMember = (who: string, to: MemberRole) => put<{ login: string; role: string }>(`/v1/accounts/${seg(account)}/members/${seg(who)}`, { role: to });
  const change = useAction(putMember);
  const addMember = useAction(putMember);

  // The login an add was refused for because no such user exists: a site admin is offered to create it.
  const [unknownLogin, setUnknownLogin] = useState<string | undefined>();

  const add = async (e: FormEvent) => {
    e.preventDefault();
    const tried = login.trim();
    setUnknownLogin(undefined);
    const result = await addMember.run(tried, role);
    if (!result.ok) {
      if (result.error.code === 'not_found' && result.error.field === 'login') setUnknownLogin(tried);
      return;
    }
    setDone(`${result.value.login} is now ${roleName(result.value.role)} in ${account}.`);
    setLogin('');
    members.reload();
  };

  return (
    <Page title={`Members of ${account}`}>
      <Done>{done}</Done>
      <Section title="Members">
        {members.loading && !members.data && <Loading what="members" />}
        <ErrorNotice error={members.error} />
        {manages && <ErrorNotice error={change.error} />}
        {members.data && (
          <table>
            <caption>Members of {account}</caption>
            <thead>
              <tr>
                <th scope="col">Login</th>
                <th scope="col">Role</th>
                <th scope="col">Member since</th>
                {manages && <ActionsHeader />}
              </tr>
            </thead>
            <tbody>
              {members.data.map((m) => (
                <tr key={m.login}>
                  <td data-label="Login">
                    {m.login}
                    {m.name && <span className="hint"> ({m.name})</span>}
                  </td>
                  <td data-label="Role">
                    {manages ? (
                      <RoleForm
                        member={m}
                        busy={change.busy}
                        onChange={async (role) => {
                          const result = await change.run(m.login, role);
                          if (result.ok) {
                            setDone(`${m.login} is now ${roleName(result.value.role)} in ${account}.`);
                            if (m.login === user.login) void reloadAccounts();
                          }
                          members.reload();
                        }}
                      />
                    ) : (
                      roleName(m.role)
                    )}
                  </td>
                  <td data-label="Member since">
                    <When iso={m.created_at} />
                  </td>
                  {manages && (
                    <td data-label="Actions">
                      <ConfirmButton
                        label="Remove"
                        labelFor={`member ${m.login}`}
                        title={`Remove ${m.login} from ${account}?`}
                        confirmLabel="Remove member"
                        onConfirm={async () => {
                          await del(`/v1/accounts/${seg(account)}/members/${seg(m.login)}`);
                          if (m.login === user.login) {
                            // Leaving: this account's pages are no longer yours to see.
                            await reloadAccounts();
                            void navigate('/accounts');
                            return;
                          }
                          setDone(`Removed ${m.login} from ${account}.`);
                          members.reload();
                        }}
                      >
                        <p>
                          {m.login}'s API keys stop working for {account} at once, and the checkout keys they made for its projects are removed. Service keys they created keep working.
                        </p>
                      </ConfirmButton>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      {manages && (
        <Section title="Add a member">
          <form className="stack" onSubmit={add}>
            <div className="field">
              <label htmlFor="member-login">Login</label>
              <input id="member-login" required maxLength={39} value={login} onChange={(e) => setLogin(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="member-role">Role</label>
              <select id="member-role" value={role} onChange={(e) => setRole(e.target.value as MemberRole)} aria-describedby="member-role-hint">
                {memberRoles.map((r) => (
                  <option key={r} value={r}>
                    {roleName(r)}
                  </option>
                ))}
              </select>
              <ul className="hint role-list" id="member-role-hint" aria-label="What each role can do">
                {memberRoles.map((r) => (
                  <li key={r}>
                    <code>{roleName(r)}</code>: {roleDescription(r)}
                  </li>
                ))}
              </ul>
            </div>
            <ErrorNotice error={addMember.error} />
            {unknownLogin && addMember.error && user.site_admin && (
              <p>
                As a site admin you can <Link to={`/admin/users?create=${encodeURIComponent(unknownLogin)}`}>create the user “{unknownLogin}”</Link>, then add them here.
              </p>
            )}
            <button type="submit" className="primary" disabled={addMember.busy}>
              Add member
            </button>
          </form>
        </Section>
      )}
      {!manages && myRole && <p className="hint">Only the account's owners and admins can add members or change roles.</p>}
    </Page>
  );
}

/** A member's role, changed with its own button, so browsing the options with the keyboard changes nothing. */
function RoleForm({ member, busy, onChange }: { member: Member; busy: boolean; onChange: (role: MemberRole) => Promise<void> }) {
  const [role, setRole] = useState<MemberRole>(member.role);
  useEffect(() => setRole(member.role), [member.role]);
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        void onChange(role);
      }}
    >
      <label className="visually-hidden" htmlFor={`role-${member.login}`}>
        Role of {member.login}
      </label>
      <select id={`role-${member.login}`} value={role} onChange={(e) => setRole(e.target.value as MemberRole)}>
        {memberRoles.map((r) => (
          <option key={r} value={r}>
            {roleName(r)}
          </option>
        ))}
      </select>
      <button type="submit" disabled={busy || role === member.role} aria-label={`Change role of ${member.login}`}>
        Change
      </button>
    </form>
  );
}
