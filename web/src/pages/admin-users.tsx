// Site administration → Users: every user of the instance, filtered by the start of the login and
// paged; creating a user hands the site admin a one-time set-password link to pass on. `?create=<login>`
// opens the page with the form filled in (the members page links here for a login that does not exist).
import { useState, type FormEvent } from 'react';
import { Link, useLocation, useSearchParams } from 'react-router';
import { call, pageInfo, post, seg } from '../api/client.ts';
import type { PasswordLink, User } from '../api/types.ts';
import { Done, ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { Pager } from '../components/pager.tsx';
import { PasswordLinkPanel } from '../components/password-link.tsx';
import { When } from '../components/when.tsx';
import { useSignedIn } from '../session.tsx';
import { useAction, useLoad } from '../use-load.ts';

const PER_PAGE = 25;

/** What sets a user apart, as badges: site admin, disabled, no password yet. */
export function UserBadges({ user }: { user: User }) {
  const badges = [user.site_admin && ['on', 'site admin'], user.disabled && ['refused', 'disabled'], !user.has_password && ['off', 'no password yet']].filter((b): b is [string, string] =>
    Array.isArray(b),
  );
  if (badges.length === 0) return <>—</>;
  return (
    <>
      {badges.map(([kind, label]) => (
        <span key={label} className={`badge ${kind}`}>
          {label}
        </span>
      ))}
    </>
  );
}

export function AdminUsersPage() {
  const [params, setParams] = useSearchParams();
  const location = useLocation();
  const { user } = useSignedIn();
  const prefix = params.get('login') ?? '';
  const page = Math.max(1, Number(params.get('page')) || 1);
  const [filter, setFilter] = useState(prefix);
  const users = useLoad(async () => {
    const { data, headers } = await call<User[]>('GET', '/v1/admin/users', { query: { login_prefix: prefix, page, per_page: PER_PAGE } });
    return { items: data, ...pageInfo(headers) };
  }, [prefix, page]);
  // A user deleted on their own page comes back here with what happened.
  const [done, setDone] = useState<string | undefined>((location.state as { done?: string } | null)?.done);

  const show = (next: { login?: string; page?: number }) => {
    const merged = { login: prefix, page, ...next };
    const search = new URLSearchParams();
    if (merged.login) search.set('login', merged.login);
    if (merged.page > 1) search.set('page', String(merged.page));
    setParams(search);
  };

  return (
    <Page
      title="Users"
      intro="Everyone who can sign in to this Keysmith instance. Open a user to disable or enable them, make them a site admin, send a new set-password link, clear their sign-in throttle or delete them."
    >
      <Done>{done}</Done>
      <Section title="All users">
        <form
          className="inline-form filter"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            show({ login: filter.trim(), page: 1 });
          }}
        >
          <label htmlFor="user-filter">Login starts with</label>
          <input id="user-filter" maxLength={39} value={filter} onChange={(e) => setFilter(e.target.value)} />
          <button type="submit">Filter</button>
        </form>
        {users.loading && !users.data && <Loading what="users" />}
        <ErrorNotice error={users.error} />
        {users.data?.items.length === 0 && <p>No users{prefix ? ` whose login starts with “${prefix}”` : ''}.</p>}
        {users.data && users.data.items.length > 0 && (
          <table>
            <caption>Users{prefix ? ` whose login starts with ${prefix}` : ''}</caption>
            <thead>
              <tr>
                <th scope="col">Login</th>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {users.data.items.map((u) => (
                <tr key={u.id}>
                  <td data-label="Login">
                    <Link to={`/admin/users/${seg(u.login)}`}>{u.login}</Link>
                  </td>
                  <td data-label="Name">{u.name ?? '—'}</td>
                  <td data-label="Email">{u.email ?? '—'}</td>
                  <td data-label="Status">
                    <UserBadges user={u} />
                  </td>
                  <td data-label="Created">
                    <When iso={u.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {users.data && (users.data.items.length > 0 || page > 1) && (
          <Pager label="Pages of users" page={page} perPage={PER_PAGE} total={users.data.total} hasNext={users.data.hasNext} onPage={(p) => show({ page: p })} />
        )}
      </Section>
      {/* Anyone else has the server's refusal above, and nothing to fill in. */}
      {user.site_admin && (
        <Section title="Create a user">
          <CreateUser
            initialLogin={params.get('create') ?? ''}
            onCreated={(login) => {
              setDone(`Created the user ${login}.`);
              users.reload();
            }}
          />
        </Section>
      )}
    </Page>
  );
}

function CreateUser({ initialLogin, onCreated }: { initialLogin: string; onCreated: (login: string) => void }) {
  const [login, setLogin] = useState(initialLogin);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [link, setLink] = useState<{ login: string; link: PasswordLink } | undefined>();
  const create = useAction((body: { login: string; name?: string; email?: string }) => post<User>('/v1/admin/users', body));
  const issue = useAction((who: string) => post<PasswordLink>(`/v1/admin/users/${seg(who)}/password-reset`));
  const [linkFailedFor, setLinkFailedFor] = useState<string | undefined>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setLink(undefined);
    setLinkFailedFor(undefined);
    const created = await create.run({ login: login.trim(), ...(name.trim() ? { name: name.trim() } : {}), ...(email.trim() ? { email: email.trim() } : {}) });
    if (!created.ok) return;
    const user = created.value;
    setLogin('');
    setName('');
    setEmail('');
    onCreated(user.login);
    const issued = await issue.run(user.login);
    if (issued.ok) setLink({ login: user.login, link: issued.value });
    else setLinkFailedFor(user.login);
  };

  return (
    <>
      {link && <PasswordLinkPanel login={link.login} link={link.link} onDone={() => setLink(undefined)} />}
      {linkFailedFor && (
        <>
          <ErrorNotice error={issue.error} />
          <p>
            {linkFailedFor} was created without a set-password link. <Link to={`/admin/users/${seg(linkFailedFor)}`}>Open {linkFailedFor}</Link> to issue one.
          </p>
        </>
      )}
      {initialLogin && login === initialLogin && <p className="hint">There is no user {initialLogin} yet. Check the login, add a name and email if you know them, then create the user.</p>}
      <form className="stack" onSubmit={submit}>
        <div className="field">
          <label htmlFor="new-user-login">Login</label>
          <input id="new-user-login" required maxLength={39} autoComplete="off" value={login} onChange={(e) => setLogin(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="new-user-name">Name (optional)</label>
          <input id="new-user-name" maxLength={255} autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="new-user-email">Email (optional)</label>
          <input id="new-user-email" type="email" maxLength={254} autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <p className="hint">The new user has no password: Keysmith gives you a one-time link for them to set it.</p>
        <ErrorNotice error={create.error} />
        <button type="submit" className="primary" disabled={create.busy || issue.busy}>
          Create user
        </button>
      </form>
    </>
  );
}
