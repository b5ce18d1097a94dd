// Settings → SSH keys: the user's public keys (/v1/user/ssh-keys). A pasted key the
// parser refuses is answered with the parser's own sentence.
import { useState, type FormEvent } from 'react';
import { call, del, pageInfo, post } from '../api/client.ts';
import type { SshKey } from '../api/types.ts';
import { ConfirmButton } from '../components/confirm.tsx';
import { Done, ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { Expiry } from '../components/expiry.tsx';
import { When } from '../components/when.tsx';
import { useAction, useLoad } from '../use-load.ts';
import { ActionsHeader } from '../components/actions-header.tsx';
import { VerifySshKeyButton } from '../components/verify-ssh-key.tsx';

/** Every key, following the pages (a user rarely has more than one page of 100). */
async function allKeys(): Promise<SshKey[]> {
  const keys: SshKey[] = [];
  for (let page = 1; ; page++) {
    const { data, headers } = await call<SshKey[]>('GET', '/v1/user/ssh-keys', { query: { per_page: 100, page } });
    keys.push(...data);
    if (!pageInfo(headers).hasNext) return keys;
  }
}

export function SshKeysPage() {
  const keys = useLoad(allKeys, []);
  const [title, setTitle] = useState('');
  const [key, setKey] = useState('');
  const [done, setDone] = useState<string | undefined>();
  const add = useAction((body: { title?: string; key: string }) => post<SshKey>('/v1/user/ssh-keys', body));
  const enable = useAction(async (k: SshKey) => {
    await post<SshKey>(`/v1/user/ssh-keys/${k.id}/enable`);
    setDone(`Enabled the SSH key “${k.title}” again.`);
    keys.reload();
  });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const result = await add.run({ key: key.trim(), ...(title.trim() ? { title: title.trim() } : {}) });
    if (!result.ok) {
      // A private key pasted by mistake does not stay on the screen.
      if (result.error.code === 'key_is_private') setKey('');
      return;
    }
    setDone(`Added the SSH key “${result.value.title}” (${result.value.fingerprint_sha256}).`);
    setTitle('');
    setKey('');
    keys.reload();
  };

  return (
    <Page title="SSH keys" intro="Public keys that let you reach repositories over SSH. Keysmith shows the same keys to Git hosts and to anyone who asks for your public keys.">
      <Done>{done}</Done>
      <Section title="Your SSH keys">
        {keys.loading && !keys.data && <Loading what="your SSH keys" />}
        <ErrorNotice error={keys.error} />
        <ErrorNotice error={enable.error} />
        {keys.data?.length === 0 && <p>No SSH keys yet.</p>}
        {keys.data && keys.data.length > 0 && (
          <table>
            <caption>Your SSH keys</caption>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Fingerprint</th>
                <th scope="col">Added</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <ActionsHeader />
              </tr>
            </thead>
            <tbody>
              {keys.data.map((k) => (
                <tr key={k.id}>
                  <td data-label="Title">
                    {k.title}
                    {k.verified && (
                      <>
                        {' '}
                        <span className="badge on" title={`You proved you hold this key on ${k.verified_at ?? ''}.`}>
                          Verified
                        </span>
                      </>
                    )}
                    {k.disabled_at !== null && (
                      <p className="hint">
                        Disabled <When iso={k.disabled_at} /> because it went unused: SSH servers refuse it until you enable it again.
                      </p>
                    )}
                  </td>
                  <td data-label="Fingerprint">
                    <code className="fingerprint">{k.fingerprint_sha256}</code>
                    <br />
                    <span className="hint">{k.type}</span>
                  </td>
                  <td data-label="Added">
                    <When iso={k.created_at} />
                  </td>
                  <td data-label="Last used">
                    <When iso={k.last_used_at} never="Never" />
                  </td>
                  <td data-label="Expires">
                    <Expiry iso={k.expires_at} expired={k.expired} />
                  </td>
                  <td data-label="Actions">
                    {k.disabled_at !== null && (
                      <>
                        <button type="button" aria-label={`Enable SSH key ${k.title}`} disabled={enable.busy} onClick={() => void enable.run(k)}>
                          Enable
                        </button>{' '}
                      </>
                    )}
                    {!k.verified && (
                      <VerifySshKeyButton
                        sshKey={k}
                        onVerified={(v) => {
                          setDone(`Verified the SSH key “${v.title}”: you proved you hold it.`);
                          keys.reload();
                        }}
                      />
                    )}{' '}
                    <ConfirmButton
                      label="Delete"
                      labelFor={`SSH key ${k.title}`}
                      title={`Delete the SSH key “${k.title}”?`}
                      confirmLabel="Delete SSH key"
                      onConfirm={async () => {
                        await del(`/v1/user/ssh-keys/${k.id}`);
                        setDone(`Deleted the SSH key “${k.title}”.`);
                        keys.reload();
                      }}
                    >
                      <p>
                        Anything that signs in with this key (<code>{k.fingerprint_sha256}</code>) is refused from now on. If it was made for a project's checkout, that checkout key goes too.
                      </p>
                    </ConfirmButton>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Add an SSH key">
        <form className="stack" onSubmit={submit}>
          <div className="field">
            <label htmlFor="ssh-title">Title (optional)</label>
            <input id="ssh-title" maxLength={100} value={title} onChange={(e) => setTitle(e.target.value)} aria-describedby="ssh-title-hint" />
            <p className="hint" id="ssh-title-hint">
              Defaults to the key's comment.
            </p>
          </div>
          <div className="field">
            <label htmlFor="ssh-key">Public key</label>
            <textarea id="ssh-key" required rows={4} spellCheck={false} autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} aria-describedby="ssh-key-hint" />
            <p className="hint" id="ssh-key-hint">
              Paste the contents of your <code>.pub</code> file, e.g. <code>~/.ssh/id_ed25519.pub</code>. It begins with <code>ssh-ed25519</code>, <code>ecdsa-sha2-…</code>, <code>sk-…</code> or{' '}
              <code>ssh-rsa</code>.
            </p>
          </div>
          <ErrorNotice error={add.error} />
          <button type="submit" className="primary" disabled={add.busy}>
            Add SSH key
          </button>
        </form>
      </Section>
    </Page>
  );
}
