// Site administration → one user: who they are, and what a site admin can do about them — disable
// (every session, key and grant of theirs stops working at once) or enable again, make or unmake a
// site admin, issue a new set-password link, clear the sign-in throttle, delete. The server decides
// each one and says why not (the last site admin, the last owner of an account).
import { useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { del, get, patch, post, seg } from '../api/client.ts';
import type { PasswordLink, User } from '../api/types.ts';
import { ConfirmButton } from '../components/confirm.tsx';
import { Done, ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { PasswordLinkPanel } from '../components/password-link.tsx';
import { When } from '../components/when.tsx';
import { useAction, useLoad } from '../use-load.ts';
import { useSignedIn } from '../session.tsx';
import { UserBadges } from './admin-users.tsx';

export function AdminUserPage() {
  const { login = '' } = useParams();
  const navigate = useNavigate();
  const path = `/v1/admin/users/${seg(login)}`;
  const user = useLoad(() => get<User>(path), [path]);
  const [done, setDone] = useState<string | undefined>();
  const [link, setLink] = useState<PasswordLink | undefined>();
  // One action at a time; its refusal is shown above the buttons.
  const action = useAction(async (work: () => Promise<string | undefined>) => {
    setDone(undefined);
    const message = await work();
    if (message) setDone(message);
    user.reload();
  });
  const run = (work: () => Promise<string | undefined>) => void action.run(work);
  const me = useSignedIn().user;
  const change = (body: { disabled?: boolean; site_admin?: boolean }, message: string) =>
    run(async () => {
      await patch<User>(path, body);
      // A site admin who changed themselves is no longer who the page was drawn for: start again.
      if (login.toLowerCase() === me.login.toLowerCase()) window.location.reload();
      return message;
    });

  const u = user.data;
  return (
    <Page title={`User ${login}`}>
      <p>
        <Link to="/admin/users">All users</Link>
      </p>
      <Done>{done}</Done>
      {user.loading && !u && <Loading what={`the user ${login}`} />}
      <ErrorNotice error={user.error} />
      {link && <PasswordLinkPanel login={login} link={link} onDone={() => setLink(undefined)} />}
      {u && (
        <>
          <Section title="Details">
            <dl className="facts">
              <Fact name="Login">{u.login}</Fact>
              <Fact name="Name">{u.name ?? '—'}</Fact>
              <Fact name="Email">{u.email ?? '—'}</Fact>
              <Fact name="Status">
                <UserBadges user={u} />
              </Fact>
              <Fact name="Created">
                <When iso={u.created_at} />
              </Fact>
            </dl>
          </Section>
          <Section title="Manage">
            <ErrorNotice error={action.error} />
            <div className="button-row">
              {u.disabled ? (
                <button type="button" disabled={action.busy} onClick={() => change({ disabled: false }, `Enabled ${login}: their sessions, keys and grants work again.`)}>
                  Enable user
                </button>
              ) : (
                <ConfirmButton
                  label="Disable"
                  labelFor={`user ${login}`}
                  title={`Disable ${login}?`}
                  confirmLabel="Disable user"
                  onConfirm={async () => {
                    await patch<User>(path, { disabled: true });
                    if (login.toLowerCase() === me.login.toLowerCase()) window.location.reload();
                    setDone(`Disabled ${login}: their sessions, API keys, SSH keys, checkout keys and grants stopped working.`);
                    user.reload();
                  }}
                >
                  <p>Every session, API key, SSH key, user checkout key and grant of {login} stops working at once, and they cannot sign in. Nothing is deleted: enabling them brings it all back.</p>
                </ConfirmButton>
              )}
              {u.site_admin ? (
                <button type="button" disabled={action.busy} onClick={() => change({ site_admin: false }, `${login} is no longer a site admin.`)}>
                  Remove site admin
                </button>
              ) : (
                <button type="button" disabled={action.busy} onClick={() => change({ site_admin: true }, `${login} is now a site admin.`)}>
                  Make site admin
                </button>
              )}
              <button
                type="button"
                disabled={action.busy}
                onClick={() =>
                  run(async () => {
                    setLink(await post<PasswordLink>(`${path}/password-reset`));
                    return undefined;
                  })
                }
              >
                New set-password link
              </button>
              <button
                type="button"
                disabled={action.busy}
                onClick={() =>
                  run(async () => {
                    await del(`${path}/sign-in-throttle`);
                    return `Cleared the sign-in throttle of ${login}: they can sign in again at once.`;
                  })
                }
              >
                Clear sign-in throttle
              </button>
              <ConfirmButton
                label="Delete"
                labelFor={`user ${login}`}
                title={`Delete ${login}?`}
                confirmLabel="Delete user"
                onConfirm={async () => {
                  await del(path);
                  void navigate('/admin/users', { state: { done: `Deleted the user ${login}.` } });
                }}
              >
                <p>{login}, their memberships, API keys, SSH keys, checkout keys and grants are removed for good. This cannot be undone; to stop them for now, disable them instead.</p>
              </ConfirmButton>
            </div>
          </Section>
        </>
      )}
    </Page>
  );
}

function Fact({ name, children }: { name: string; children: ReactNode }) {
  return (
    <div>
      <dt>{name}</dt>
      <dd>{children}</dd>
    </div>
  );
}
