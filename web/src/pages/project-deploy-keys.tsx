// A project's deploy keys: the public keys that may reach its repository, each with its public half to
// copy and when it was last used. A writer pastes an existing public key as one (read-only unless
// ticked); a pasted private key is refused with the parser's sentence and leaves the form.
import { useState, type FormEvent } from 'react';
import { call, del, pageInfo, post } from '../api/client.ts';
import type { DeployKey } from '../api/types.ts';
import { PolicyBadge } from '../components/expiry.tsx';
import { ActionsHeader } from '../components/actions-header.tsx';
import { ConfirmButton } from '../components/confirm.tsx';
import { ErrorNotice, Loading } from '../components/notices.tsx';
import { Section } from '../components/page.tsx';
import { PublicKey } from '../components/public-key.tsx';
import { Expiry } from '../components/expiry.tsx';
import { When } from '../components/when.tsx';
import { useAction, type Loaded } from '../use-load.ts';
/** Every deploy key of the project, following the pages. */
export async function allDeployKeys(base: string): Promise<DeployKey[]> {
  const keys: DeployKey[] = [];
  for (let page = 1; ; page++) {
    const { data, headers } = await call<DeployKey[]>('GET', `${base}/deploy-keys`, { query: { per_page: 100, page } });
    keys.push(...data);
    if (!pageInfo(headers).hasNext) return keys;
  }
}

/**
 * The project's deploy keys: the public keys that may reach its repository. A deploy checkout key's
 * public half is one of them; a writer may also paste an existing public key (children: the form).
 */
export function DeployKeys({
  slug,
  base,
  writes,
  keys,
  checkoutFingerprints,
  policyRules,
  onChanged,
}: {
  slug: string;
  base: string;
  writes: boolean;
  keys: Loaded<DeployKey[]>;
  checkoutFingerprints: ReadonlySet<string>;
  /** The account policy's rule each key breaks, by SHA256 fingerprint (the Policy page lists them all). */
  policyRules: ReadonlyMap<string, string>;
  /** A key was added or deleted: the page says so and reloads what it lists. */
  onChanged: (message: string) => void;
}) {
  const [title, setTitle] = useState('');
  const [key, setKey] = useState('');
  const [writesToo, setWritesToo] = useState(false);
  const add = useAction((body: { title?: string; key: string; read_only: boolean }) => post<DeployKey>(`${base}/deploy-keys`, body));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const result = await add.run({ key: key.trim(), read_only: !writesToo, ...(title.trim() ? { title: title.trim() } : {}) });
    if (!result.ok) {
      // A private key pasted by mistake does not stay on the screen.
      if (result.error.code === 'key_is_private') setKey('');
      return;
    }
    onChanged(`Added the deploy key “${result.value.title}” (${result.value.fingerprint_sha256}).`);
    setTitle('');
    setKey('');
    setWritesToo(false);
  };

  return (
    <Section title="Deploy keys">
      <p>
        Public keys that may reach <code>{slug}</code>, each read-only unless it was added to push. A checkout key of type deploy is listed here too.
      </p>
      {keys.loading && !keys.data && <Loading what="deploy keys" />}
      <ErrorNotice error={keys.error} />
      {keys.data?.length === 0 && <p>No deploy keys yet.</p>}
      {keys.data && keys.data.length > 0 && (
        <table>
          <caption>Deploy keys of {slug}</caption>
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Fingerprint and public key</th>
              <th scope="col">Access</th>
              <th scope="col">Added</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              {writes && <ActionsHeader />}
            </tr>
          </thead>
          <tbody>
            {keys.data.map((k) => (
              <tr key={k.id}>
                <td data-label="Title">
                  {k.title}
                  {checkoutFingerprints.has(k.fingerprint_sha256) && <span className="hint"> (a checkout key)</span>}
                  {k.added_by && <span className="hint"> added by {k.added_by}</span>}
                  <PolicyBadge rule={policyRules.get(k.fingerprint_sha256)} />
                </td>
                <td data-label="Fingerprint and public key">
                  <code className="fingerprint">{k.fingerprint_sha256}</code>
                  <PublicKey value={k.key} label={`Public key of the deploy key ${k.title}`} />
                </td>
                <td data-label="Access">{k.read_only ? 'read only' : 'read and push'}</td>
                <td data-label="Added">
                  <When iso={k.created_at} />
                </td>
                <td data-label="Last used">
                  <When iso={k.last_used_at} never="Never" />
                </td>
                <td data-label="Expires">
                  <Expiry iso={k.expires_at} expired={k.expired} />
                </td>
                {writes && (
                  <td data-label="Actions">
                    <ConfirmButton
                      label="Delete"
                      labelFor={`the deploy key ${k.title}`}
                      title={`Delete the deploy key “${k.title}”?`}
                      confirmLabel="Delete the deploy key"
                      onConfirm={async () => {
                        await del(`${base}/deploy-keys/${k.id}`);
                        onChanged(`Deleted the deploy key “${k.title}”.`);
                      }}
                    >
                      <p>
                        Anything using <code>{k.fingerprint_sha256}</code> can no longer reach {slug}.{checkoutFingerprints.has(k.fingerprint_sha256) && ' The checkout key made from it goes too.'}
                      </p>
                    </ConfirmButton>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {writes && (
        <>
          <h3>Add an existing public key as a deploy key</h3>
          <form className="stack" onSubmit={submit}>
            <div className="field">
              <label htmlFor="deploy-title">Title (optional)</label>
              <input id="deploy-title" maxLength={255} value={title} onChange={(e) => setTitle(e.target.value)} aria-describedby="deploy-title-hint" />
              <p className="hint" id="deploy-title-hint">
                Defaults to the key's comment.
              </p>
            </div>
            <div className="field">
              <label htmlFor="deploy-key">Public key</label>
              <textarea id="deploy-key" required rows={4} spellCheck={false} autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} aria-describedby="deploy-key-hint" />
              <p className="hint" id="deploy-key-hint">
                Paste the contents of a <code>.pub</code> file. Only the public half: the private key stays with whoever uses it.
              </p>
            </div>
            <div className="check">
              <input type="checkbox" id="deploy-writes" checked={writesToo} onChange={(e) => setWritesToo(e.target.checked)} />
              <label htmlFor="deploy-writes">Allow pushing with this key (unticked, it can only read)</label>
            </div>
            <ErrorNotice error={add.error} />
            <button type="submit" className="primary" disabled={add.busy}>
              Add public key
            </button>
          </form>
        </>
      )}
    </Section>
  );
}
