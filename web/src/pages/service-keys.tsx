// Account → Service API keys: keys that belong to the account, carry their own role and survive the
// person who made them. Owners and admins create them (the secret shown once) and delete them.
import { useState } from 'react';
import { useParams } from 'react-router';
import { del, get, post } from '../api/client.ts';
import type { Created, ServiceKey } from '../api/types.ts';
import { serviceRoles } from '../../../src/modules/access/roles.ts';
import { KeyTable, NewKeyForm, useNewKey, type NewKey } from '../components/api-key-parts.tsx';
import { Done, ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { SecretOnce } from '../components/secret-once.tsx';
import { useAccountRole } from '../session.tsx';
import { useLoad } from '../use-load.ts';

export function ServiceKeysPage() {
  const { account = '' } = useParams();
  const { can } = useAccountRole(account);
  const keys = useLoad(() => get<ServiceKey[]>('/v1/service-api-keys', { account }), [account]);
  const [done, setDone] = useState<string | undefined>();
  const newKey = useNewKey(
    (body: NewKey) => post<Created<ServiceKey>>('/v1/service-api-keys', body, { account }),
    () => {
      setDone(undefined);
      keys.reload();
    },
  );
  // No service key is ever an owner, so an admin may create every service role.
  const roles = can('service_key.manage') ? serviceRoles : undefined;

  return (
    <Page
      title={`Service API keys of ${account}`}
      intro="Keys for machines: each belongs to the account, has its own role (a runner key is the only kind that can fetch checkout private keys), and keeps working when the person who made it leaves."
    >
      {newKey.shown && <SecretOnce name={newKey.shown.name} secret={newKey.shown.key} onDone={newKey.dismiss} />}
      <Done>{done}</Done>
      <Section title="Service API keys">
        {keys.loading && !keys.data && <Loading what="service keys" />}
        <ErrorNotice error={keys.error} />
        {keys.data && (
          <KeyTable
            keys={keys.data}
            caption={`Service API keys of ${account}`}
            onDelete={async (key) => {
              await del(`/v1/service-api-keys/${key.id}`, { account });
              setDone(`Deleted the service key “${key.name}”.`);
              keys.reload();
            }}
          />
        )}
      </Section>
      {roles && (
        <Section title="Create a service API key">
          <NewKeyForm roles={roles} busy={newKey.busy} error={newKey.error} onCreate={newKey.onCreate} />
        </Section>
      )}
    </Page>
  );
}
