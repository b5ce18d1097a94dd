// Settings → Permissions: the user's grants (README: grants). Each is given and revoked on its own;
// revoking offers to remove the keys made under it. A grant_url (?grant=write:public_key&project=…)
// opens this page with that grant selected and says which project asked — once the API confirms the
// project is one the user can see, so a crafted link cannot put a name of its choosing on the page.
import { useEffect, useRef, useState } from 'react';
import { Link, useLocation, useSearchParams } from 'react-router';
import { ApiError, del, get, put, seg } from '../api/client.ts';
import type { Grant, Project } from '../api/types.ts';
import { projectPath } from './projects.tsx';
import { ConfirmButton } from '../components/confirm.tsx';
import { Done, ErrorNotice, Loading } from '../components/notices.tsx';
import { Page } from '../components/page.tsx';
import { When } from '../components/when.tsx';
import { useAction, useLoad } from '../use-load.ts';

/** The project a grant_url names (<vcs>/<account>/<name>), as the API knows it; undefined if it is not one the user can see. */
async function askingProject(slug: string | null): Promise<Project | undefined> {
  const parts = slug?.split('/') ?? [];
  if (parts.length !== 3 || parts.some((p) => p === '')) return undefined;
  const [vcs, account, name] = parts as [string, string, string];
  try {
    return await get<Project>(`/v1/projects/${seg(vcs)}/${seg(account)}/${seg(name)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

export function PermissionsPage() {
  const grants = useLoad(() => get<Grant[]>('/v1/user/grants'), []);
  const [params] = useSearchParams();
  const selected = params.get('grant');
  const asking = useLoad(() => askingProject(params.get('project')), [params.get('project')]);
  const back = (useLocation().state as { back?: string } | null)?.back;
  const [done, setDone] = useState<string | undefined>();
  const unknown = selected && grants.data && !grants.data.some((g) => g.scope === selected);

  return (
    <Page title="Permissions" intro="Standing permissions you give Keysmith to act on your own account in one elevated way. Each is given and revoked on its own, here, for every project at once.">
      <Done>{done}</Done>
      {done && back && (
        <p>
          <Link to={back}>Go back to where you were</Link>
        </p>
      )}
      {grants.loading && !grants.data && <Loading what="your permissions" />}
      <ErrorNotice error={grants.error} />
      {unknown && (
        <p className="notice error" role="alert">
          There is no permission called “{selected}”. The ones that exist are listed below.
        </p>
      )}
      {grants.data?.map((grant) => (
        <GrantCard
          key={grant.scope}
          grant={grant}
          selected={grant.scope === selected}
          asking={asking.data}
          onChanged={(message) => {
            setDone(message);
            grants.reload();
          }}
        />
      ))}
    </Page>
  );
}

function GrantCard({ grant, selected, asking, onChanged }: { grant: Grant; selected: boolean; asking: Project | undefined; onChanged: (message: string) => void }) {
  const give = useAction(() => put<Grant>(`/v1/user/grants/${seg(grant.scope)}`));
  const [removeKeys, setRemoveKeys] = useState(false);
  const card = useRef<HTMLElement>(null);
  const keys = grant.keys ?? [];
  const headingId = `grant-${grant.scope.replace(/[^a-z0-9]+/gi, '-')}`;

  useEffect(() => {
    if (selected) card.current?.scrollIntoView({ block: 'center' });
  }, [selected]);

  return (
    <article ref={card} className={selected ? 'card selected' : 'card'} aria-labelledby={headingId} aria-current={selected ? 'true' : undefined}>
      <h2 id={headingId}>{grant.title}</h2>
      {selected &&
        !grant.granted &&
        (asking ? (
          <p className="notice info">
            The project <Link to={projectPath(asking)}>{asking.slug}</Link> asked for this permission. Give it below, then try again there.
          </p>
        ) : (
          <p className="notice info">A project asked for this permission. Give it below, then try again there.</p>
        ))}
      {selected && grant.granted && asking && (
        <p>
          The project <Link to={projectPath(asking)}>{asking.slug}</Link> asked for it: try again there now.
        </p>
      )}
      <p>
        <strong>What it allows:</strong> {grant.allows}
      </p>
      <p className="hint">
        Permission name: <code>{grant.scope}</code>
      </p>
      <p>
        {grant.granted ? (
          <>
            <span className="badge on">Given</span> on <When iso={grant.granted_at} />
          </>
        ) : (
          <span className="badge off">Not given</span>
        )}
      </p>
      {grant.granted && keys.length > 0 && (
        <p>
          {keys.length === 1 ? 'One key was' : `${keys.length} keys were`} made under it: {keys.map((k) => k.project).join(', ')}.
        </p>
      )}
      <ErrorNotice error={give.error} />
      {grant.granted ? (
        <ConfirmButton
          label="Revoke"
          labelFor={`permission ${grant.scope}`}
          title={`Revoke “${grant.title}”?`}
          confirmLabel="Revoke permission"
          onOpen={() => setRemoveKeys(false)}
          onConfirm={async () => {
            const revoked = await del<{ keys: unknown[]; removed_keys: boolean }>(`/v1/user/grants/${seg(grant.scope)}`, {
              query: { remove_keys: removeKeys || undefined },
            });
            onChanged(
              revoked.removed_keys
                ? `Revoked ${grant.scope} and removed the ${revoked.keys.length === 1 ? 'key' : `${revoked.keys.length} keys`} made under it.`
                : `Revoked ${grant.scope}. Keys made under it keep working.`,
            );
          }}
        >
          <p>Projects will no longer be able to put new keys on your account. Nothing else changes.</p>
          {keys.length > 0 ? (
            <>
              <p>Keys made under this permission, which keep working unless you remove them:</p>
              <ul>
                {keys.map((k) => (
                  <li key={k.ssh_key_id}>
                    {k.project} — <code className="fingerprint">{k.fingerprint_sha256}</code>
                  </li>
                ))}
              </ul>
              <div className="check">
                <input type="checkbox" id={`${headingId}-remove`} checked={removeKeys} onChange={(e) => setRemoveKeys(e.target.checked)} />
                <label htmlFor={`${headingId}-remove`}>Also remove {keys.length === 1 ? 'this key' : `these ${keys.length} keys`} (and their checkout keys)</label>
              </div>
            </>
          ) : (
            <p>No keys were made under it.</p>
          )}
        </ConfirmButton>
      ) : (
        <button
          type="button"
          className="primary"
          disabled={give.busy}
          autoFocus={selected}
          onClick={async () => {
            const result = await give.run();
            if (result.ok) onChanged(`Gave ${grant.scope}: ${grant.title.toLowerCase()}.`);
          }}
        >
          Give this permission
        </button>
      )}
    </article>
  );
}
