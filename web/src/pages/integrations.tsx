// Settings → Integrations: the user's Heroku API key, stored encrypted and only ever shown as its
// last four characters.
import { useState, type FormEvent } from 'react';
import { del, get, put } from '../api/client.ts';
import type { Heroku } from '../api/types.ts';
import { ConfirmButton } from '../components/confirm.tsx';
import { Done, ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { useAction, useLoad } from '../use-load.ts';

export function IntegrationsPage() {
  const heroku = useLoad(() => get<Heroku>('/v1/user/integrations/heroku'), []);
  const [apikey, setApikey] = useState('');
  const [done, setDone] = useState<string | undefined>();
  const save = useAction((key: string) => put<Heroku>('/v1/user/integrations/heroku', { apikey: key }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const result = await save.run(apikey.trim());
    // The key leaves the page either way: it is a secret, and the server has it or refused it.
    setApikey('');
    if (!result.ok) return;
    setDone('Saved your Heroku API key.');
    heroku.reload();
  };

  return (
    <Page title="Integrations" intro="Keys of other services that your CI jobs may use on your behalf. Keysmith stores them encrypted and never shows them again.">
      <Done>{done}</Done>
      <Section title="Heroku">
        {heroku.loading && !heroku.data && <Loading what="your Heroku key" />}
        <ErrorNotice error={heroku.error} />
        {heroku.data && (
          <p>
            {heroku.data.configured ? (
              <>
                <span className="badge on">Set</span> A Heroku API key ending in <code>{heroku.data.last4}</code> is stored.
              </>
            ) : (
              <>
                <span className="badge off">Not set</span> No Heroku API key is stored.
              </>
            )}
          </p>
        )}
        {heroku.data?.configured && (
          <ConfirmButton
            label="Remove"
            labelFor="Heroku API key"
            title="Remove your Heroku API key?"
            confirmLabel="Remove Heroku key"
            onConfirm={async () => {
              await del('/v1/user/integrations/heroku');
              setDone('Removed your Heroku API key.');
              heroku.reload();
            }}
          >
            <p>CI jobs that deploy to Heroku with your key will stop working until you set a new one.</p>
          </ConfirmButton>
        )}
        <form className="stack" onSubmit={submit}>
          <div className="field">
            <label htmlFor="heroku-key">{heroku.data?.configured ? 'Replace with a new Heroku API key' : 'Heroku API key'}</label>
            <input id="heroku-key" type="password" required maxLength={256} autoComplete="off" value={apikey} onChange={(e) => setApikey(e.target.value)} aria-describedby="heroku-hint" />
            <p className="hint" id="heroku-hint">
              Find it in Heroku under Account settings → API Key, or run <code>heroku auth:token</code>.
            </p>
          </div>
          <ErrorNotice error={save.error} />
          <button type="submit" className="primary" disabled={save.busy}>
            Save Heroku key
          </button>
        </form>
      </Section>
    </Page>
  );
}
