// Account → Service API keys: keys that belong to the account, carry their own role and survive the
// person who made them. Owners and admins create them (the secret shown once) and delete them; only
// an owner creates or deletes a runner key, the one kind that reads projects' private keys, and may
// limit it to named projects.
import { useState } from 'react';
import { useParams } from 'react-router';
import { del, get, post, seg } from '../api/client.ts';
import type { Created, PolicyViolation, Project, ServiceKey, ServiceRole } from '../api/types.ts';
import { serviceRoles } from '../../../src/modules/access/roles.ts';
import { KeyTable, NewKeyForm, useNewKey, type NewKey } from '../components/api-key-parts.tsx';
import { Done, ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { SecretOnce } from '../components/secret-once.tsx';
import { useAccountRole } from '../session.tsx';
import { useLoad } from '../use-load.ts';

/** Which projects' private keys a runner key can read, in words. */
function readableBy(key: ServiceKey, account: string): string {
  if (key.projects === null) return `Every project of ${account}, including ones created later`;
  if (key.projects.length === 0) return 'No project: the projects it was limited to have been deleted';
  return key.projects.join(', ');
}

function RunnerProjects({
  account,
  limited,
  setLimited,
  picked,
  setPicked,
}: {
  account: string;
  limited: boolean;
  setLimited: (limited: boolean) => void;
  picked: string[];
  setPicked: (update: (now: string[]) => string[]) => void;
}) {
  const projects = useLoad(() => get<Project[]>('/v1/projects', { account, query: { per_page: 100 } }), [account]);
  return (
    <fieldset>
      <legend>Projects whose private keys this runner key can read</legend>
      <p className="hint">Unless limited, a runner key reads every project of {account}, including ones created later.</p>
      <div className="check">
        <input type="checkbox" id="runner-limited" checked={limited} onChange={(e) => setLimited(e.target.checked)} />
        <label htmlFor="runner-limited">Only the projects ticked below</label>
      </div>
      {limited && (
        <>
          {projects.loading && !projects.data && <Loading what="projects" />}
          <ErrorNotice error={projects.error} />
          {projects.data?.length === 0 && <p>{account} has no projects yet.</p>}
          {projects.data?.map((p) => (
            <div className="check" key={p.slug}>
              <input
                type="checkbox"
                id={`runner-project-${p.slug}`}
                checked={picked.includes(p.slug)}
                onChange={(e) => setPicked((now) => (e.target.checked ? [...now, p.slug] : now.filter((s) => s !== p.slug)))}
              />
              <label htmlFor={`runner-project-${p.slug}`}>
                <code>{p.slug}</code>
              </label>
            </div>
          ))}
          <p className="hint">A project deleted later drops off the list; a key whose projects are all gone reads nothing.</p>
        </>
      )}
    </fieldset>
  );
}

export function ServiceKeysPage() {
  const { account = '' } = useParams();
  const { can } = useAccountRole(account);
  const keys = useLoad(() => get<ServiceKey[]>('/v1/service-api-keys', { account }), [account]);
  const violations = useLoad(() => get<PolicyViolation[]>(`/v1/accounts/${seg(account)}/policy/violations`), [account]);
  const [done, setDone] = useState<string | undefined>();
  const [rotated, setRotated] = useState<Created<ServiceKey> | undefined>();
  const [limited, setLimited] = useState(false);
  const [picked, setPicked] = useState<string[]>([]);
  const newKey = useNewKey(
    (body: NewKey) => post<Created<ServiceKey>>('/v1/service-api-keys', body, { account }),
    () => {
      setDone(undefined);
      setLimited(false);
      setPicked([]);
      keys.reload();
    },
  );
  // No service key is ever an owner, so an admin may create every service role but runner, which
  // reads private keys and is an owner's to create.
  const roles: readonly ServiceRole[] | undefined = can('service_key.manage') ? serviceRoles.filter((r) => r !== 'runner' || can('runner_key.manage')) : undefined;
  const runners = keys.data?.filter((k) => k.role === 'runner') ?? [];

  return (
    <Page
      title={`Service API keys of ${account}`}
      intro="Keys for machines: each belongs to the account, has its own role (a runner key is the only kind that can fetch checkout private keys, and only an owner can create one), and keeps working when the person who made it leaves."
    >
      {newKey.shown && <SecretOnce name={newKey.shown.name} secret={newKey.shown.key} onDone={newKey.dismiss} />}
      {rotated && <SecretOnce name={rotated.name} secret={rotated.key} onDone={() => setRotated(undefined)} />}
      <Done>{done}</Done>
      <Section title="Service API keys">
        {keys.loading && !keys.data && <Loading what="service keys" />}
        <ErrorNotice error={keys.error} />
        {keys.data && (
          <KeyTable
            keys={keys.data}
            caption={`Service API keys of ${account}`}
            policyRules={new Map((violations.data ?? []).filter((v) => v.kind === 'service_api_key').map((v) => [v.id, v.rule]))}
            onRotate={
              can('service_key.manage')
                ? async (key, graceSeconds, idempotencyKey) => {
                    const made = await post<Created<ServiceKey>>(`/v1/service-api-keys/${key.id}/rotate`, { grace_seconds: graceSeconds }, { account, idempotencyKey });
                    setDone(
                      `Rotated the service key “${key.name}”: copy the new key below; the old one ${graceSeconds === 0 ? 'has stopped working' : 'keeps working until the time shown in the list'}.`,
                    );
                    setRotated(made);
                    keys.reload();
                  }
                : undefined
            }
            onEnable={
              can('service_key.manage')
                ? async (key) => {
                    await post<ServiceKey>(`/v1/service-api-keys/${key.id}/enable`, undefined, { account });
                    setDone(`Enabled the service key “${key.name}” again.`);
                    keys.reload();
                  }
                : undefined
            }
            onDelete={async (key) => {
              await del(`/v1/service-api-keys/${key.id}`, { account });
              setDone(`Deleted the service key “${key.name}”.`);
              keys.reload();
              violations.reload();
            }}
          />
        )}
      </Section>
      {runners.length > 0 && (
        <Section title="Who can read private keys">
          <p>Runner keys fetch the checkout and per-host private keys of projects for CI jobs. Each can read the private keys of:</p>
          <ul aria-label={`Runner keys of ${account} and the projects whose private keys they can read`}>
            {runners.map((k) => (
              <li key={k.id}>
                <strong>{k.name}</strong>: {readableBy(k, account)}
              </li>
            ))}
          </ul>
        </Section>
      )}
      {roles && (
        <Section title="Create a service API key">
          <NewKeyForm
            roles={roles}
            busy={newKey.busy}
            error={newKey.error}
            roleExtras={(role) => (role === 'runner' ? <RunnerProjects account={account} limited={limited} setLimited={setLimited} picked={picked} setPicked={setPicked} /> : null)}
            onCreate={(body) => newKey.onCreate(body.role === 'runner' && limited ? { ...body, projects: picked } : body)}
          />
        </Section>
      )}
    </Page>
  );
}
