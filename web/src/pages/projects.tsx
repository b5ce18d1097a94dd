// Account → Projects: the account's projects, each opening its checkout keys and per-host SSH keys.
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { call, del, pageInfo, post, seg } from '../api/client.ts';
import type { Project } from '../api/types.ts';
import { ConfirmButton } from '../components/confirm.tsx';
import { Done, ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { Pager } from '../components/pager.tsx';
import { When } from '../components/when.tsx';
import { vcsName } from '../format.ts';
import { useAccountRole } from '../session.tsx';
import { useAction, useLoad } from '../use-load.ts';
import { ActionsHeader } from '../components/actions-header.tsx';

const PER_PAGE = 30;
export const projectPath = (p: Pick<Project, 'account' | 'vcs_type' | 'name'>): string => `/accounts/${seg(p.account)}/projects/${seg(p.vcs_type)}/${seg(p.name)}`;

export function ProjectsPage() {
  const { account = '' } = useParams();
  const writes = useAccountRole(account).can('project.write');
  const [page, setPage] = useState(1);
  const projects = useLoad(async () => {
    const { data, headers } = await call<Project[]>('GET', '/v1/projects', { account, query: { page, per_page: PER_PAGE } });
    return { items: data, ...pageInfo(headers) };
  }, [account, page]);
  const [vcs, setVcs] = useState<'gh' | 'bb'>('gh');
  const [name, setName] = useState('');
  const [done, setDone] = useState<string | undefined>();
  const create = useAction((body: { vcs_type: string; name: string }) => post<Project>('/v1/projects', body, { account }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const result = await create.run({ vcs_type: vcs, name: name.trim() });
    if (!result.ok) return;
    setDone(`Created the project ${result.value.slug}.`);
    setName('');
    projects.reload();
  };

  return (
    <Page title={`Projects of ${account}`} intro="Each project has checkout keys, which CI uses to clone it, and per-host SSH keys for deployments.">
      <Done>{done}</Done>
      <Section title="Projects">
        {projects.loading && !projects.data && <Loading what="projects" />}
        <ErrorNotice error={projects.error} />
        {projects.data?.items.length === 0 && page === 1 && <p>No projects yet.</p>}
        {projects.data && projects.data.items.length > 0 && (
          <>
            <table>
              <caption>Projects of {account}</caption>
              <thead>
                <tr>
                  <th scope="col">Project</th>
                  <th scope="col">Host</th>
                  <th scope="col">Created</th>
                  {writes && <ActionsHeader />}
                </tr>
              </thead>
              <tbody>
                {projects.data.items.map((p) => (
                  <tr key={p.slug}>
                    <td data-label="Project">
                      <Link to={projectPath(p)}>{p.name}</Link>
                      <br />
                      <code className="hint">{p.slug}</code>
                    </td>
                    <td data-label="Host">{vcsName(p.vcs_type)}</td>
                    <td data-label="Created">
                      <When iso={p.created_at} />
                    </td>
                    {writes && (
                      <td data-label="Actions">
                        <ConfirmButton
                          label="Delete"
                          labelFor={`project ${p.slug}`}
                          title={`Delete the project ${p.slug}?`}
                          confirmLabel="Delete project"
                          onConfirm={async () => {
                            await del(`/v1/projects/${seg(p.vcs_type)}/${seg(p.account)}/${seg(p.name)}`);
                            setDone(`Deleted the project ${p.slug}.`);
                            projects.reload();
                          }}
                        >
                          <p>Its checkout keys, deploy keys and per-host SSH keys are deleted with it, and CI jobs can no longer check it out.</p>
                        </ConfirmButton>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
        {projects.data?.items.length === 0 && page > 1 && <p>There are no projects on this page.</p>}
        {projects.data && (projects.data.items.length > 0 || page > 1) && (
          <Pager label="Project pages" page={page} perPage={PER_PAGE} total={projects.data.total} hasNext={projects.data.hasNext} onPage={setPage} />
        )}
      </Section>
      {writes && (
        <Section title="Add a project">
          <form className="stack" onSubmit={submit}>
            <div className="field">
              <label htmlFor="project-vcs">Host</label>
              <select id="project-vcs" value={vcs} onChange={(e) => setVcs(e.target.value as 'gh' | 'bb')}>
                <option value="gh">GitHub</option>
                <option value="bb">Bitbucket</option>
              </select>
            </div>
            <div className="field">
              <label htmlFor="project-name">Repository name</label>
              <input id="project-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} aria-describedby="project-name-hint" />
              <p className="hint" id="project-name-hint">
                Letters, digits, <code>.</code>, <code>-</code> and <code>_</code>, as in the repository's address.
              </p>
            </div>
            <ErrorNotice error={create.error} />
            <button type="submit" className="primary" disabled={create.busy}>
              Add project
            </button>
          </form>
        </Section>
      )}
    </Page>
  );
}
