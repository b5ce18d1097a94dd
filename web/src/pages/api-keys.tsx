// Settings → API keys: the user's own keys. Create or rotate (the secret shown once), list, delete.
import { useState } from 'react';
import { del, get, post } from '../api/client.ts';
import type { ApiKey, Created } from '../api/types.ts';
import { KeyTable, NewKeyForm, useNewKey, type NewKey } from '../components/api-key-parts.tsx';
import { Done, ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { SecretOnce } from '../components/secret-once.tsx';
import { useLoad } from '../use-load.ts';

export function ApiKeysPage() {
  const keys = useLoad(() => get<ApiKey[]>('/v1/user/api-keys'), []);
  const [done, setDone] = useState<string | undefined>();
  const [rotated, setRotated] = useState<Created<ApiKey> | undefined>();
  const newKey = useNewKey(
    (body: NewKey) => post<Created<ApiKey>>('/v1/user/api-keys', body),
    () => {
      setDone(undefined);
      keys.reload();
    },
  );

  return (
    <Page title="API keys" intro="Your personal API keys act as you, with your role in each account you belong to. Use them for scripts, the GitHub- and CircleCI-compatible APIs and curl.">
      {newKey.shown && <SecretOnce name={newKey.shown.name} secret={newKey.shown.key} onDone={newKey.dismiss} />}
      {rotated && <SecretOnce name={rotated.name} secret={rotated.key} onDone={() => setRotated(undefined)} />}
      <Done>{done}</Done>
      <Section title="Your API keys">
        {keys.loading && !keys.data && <Loading what="your API keys" />}
        <ErrorNotice error={keys.error} />
        {keys.data && (
          <KeyTable
            keys={keys.data}
            caption="Your API keys"
            onRotate={async (key, graceSeconds, idempotencyKey) => {
              const made = await post<Created<ApiKey>>(`/v1/user/api-keys/${key.id}/rotate`, { grace_seconds: graceSeconds }, { idempotencyKey });
              setDone(`Rotated the API key “${key.name}”: copy the new key below; the old one ${graceSeconds === 0 ? 'has stopped working' : 'keeps working until the time shown in the list'}.`);
              setRotated(made);
              keys.reload();
            }}
            onEnable={async (key) => {
              await post<ApiKey>(`/v1/user/api-keys/${key.id}/enable`);
              setDone(`Enabled the API key “${key.name}” again.`);
              keys.reload();
            }}
            onDelete={async (key) => {
              await del(`/v1/user/api-keys/${key.id}`);
              setDone(`Deleted the API key “${key.name}”.`);
              keys.reload();
            }}
          />
        )}
      </Section>
      <Section title="Create an API key">
        <NewKeyForm busy={newKey.busy} error={newKey.error} onCreate={newKey.onCreate} />
      </Section>
    </Page>
  );
}
