// Account → Webhooks (owners and admins): where the account's events are POSTed. Adding one shows its
// signing secret once; each webhook can be pinged, deleted, and its deliveries read with every attempt
// and sent again. Deliveries happen in the background, so the list is read again on Refresh (and after
// a ping or redelivery) rather than on a timer.
import { useState, type FormEvent } from 'react';
import { useParams } from 'react-router';
import { del, get, post, seg } from '../api/client.ts';
import type { Delivery, QueuedDelivery, Webhook } from '../api/types.ts';
import { ALL_EVENTS, webhookEvents } from '../../../src/modules/webhooks/webhook-events.ts';
import { ActionsHeader } from '../components/actions-header.tsx';
import { ConfirmButton } from '../components/confirm.tsx';
import { CopyField } from '../components/copy.tsx';
import { Done, ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { When } from '../components/when.tsx';
import { useAction, useLoad } from '../use-load.ts';

type Created = Webhook & { secret: string };

/** The API's state in a person's words: a pending delivery is queued until its first attempt, then retrying. */
function deliveryStatus(d: Delivery): 'delivered' | 'failed' | 'retrying' | 'queued' {
  if (d.state === 'pending') return d.attempts.length > 0 ? 'retrying' : 'queued';
  return d.state;
}

const eventsInWords = (events: string[]) => (events.includes(ALL_EVENTS) ? 'Every event' : events.join(', '));

function attemptOutcome(a: Delivery['attempts'][number]): string {
  if (a.status_code === null) return `no answer: ${a.error ?? 'the receiver could not be reached'}`;
  return `HTTP ${a.status_code}${a.status_code >= 200 && a.status_code < 300 ? '' : a.error ? ` (${a.error})` : ''}`;
}

/** The new webhook's signing secret, shown this once, and how a receiver checks it. */
function SecretOnce({ made, onDone }: { made: Created; onDone: () => void }) {
  return (
    <div className="secret" role="region" aria-labelledby="webhook-secret-title">
      <h2 id="webhook-secret-title">Copy the signing secret of {made.url} now</h2>
      <p className="warning">
        <strong>This is the only time Keysmith shows this secret.</strong> If you lose it, delete the webhook and add it again.
      </p>
      <CopyField id="webhook-secret" label="Signing secret" value={made.secret} />
      <p>
        Each delivery carries an <code>X-Keysmith-Signature-256</code> header: <code>sha256=</code> followed by the hex HMAC-SHA256 of the raw request body, keyed with this secret. Your receiver
        computes the same over the bytes it received, compares the two in constant time, and ignores a delivery that does not match.
      </p>
      <button type="button" onClick={onDone}>
        I have copied it
      </button>
    </div>
  );
}

function NewWebhookForm({ onCreate, busy }: { onCreate: (body: { url: string; events: string[]; description?: string }) => Promise<boolean>; busy: boolean }) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [every, setEvery] = useState(false);
  const [events, setEvents] = useState<string[]>([]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const made = await onCreate({ url: url.trim(), events: every ? [ALL_EVENTS] : events, ...(description.trim() ? { description: description.trim() } : {}) });
    if (made) {
      setUrl('');
      setDescription('');
      setEvery(false);
      setEvents([]);
    }
  };

  return (
    <form className="stack" onSubmit={submit}>
      <div className="field">
        <label htmlFor="webhook-url">URL</label>
        <input id="webhook-url" type="url" required maxLength={2000} value={url} onChange={(e) => setUrl(e.target.value)} aria-describedby="webhook-url-hint" />
        <p className="hint" id="webhook-url-hint">
          Where each event is POSTed as JSON, e.g. https://hooks.example.com/keysmith.
        </p>
      </div>
      <div className="field">
        <label htmlFor="webhook-description">Description</label>
        <input id="webhook-description" maxLength={200} value={description} onChange={(e) => setDescription(e.target.value)} />
      </div>
      <fieldset>
        <legend>Events to send</legend>
        <div className="check">
          <input type="checkbox" id="webhook-event-all" checked={every} onChange={(e) => setEvery(e.target.checked)} />
          <label htmlFor="webhook-event-all">Every event, including ones added later</label>
        </div>
        {webhookEvents.map((name) => (
          <div className="check" key={name}>
            <input
              type="checkbox"
              id={`webhook-event-${name}`}
              disabled={every}
              checked={every || events.includes(name)}
              onChange={(e) => setEvents((now) => (e.target.checked ? [...now, name] : now.filter((n) => n !== name)))}
            />
            <label htmlFor={`webhook-event-${name}`}>
              <code>{name}</code>
            </label>
          </div>
        ))}
        <p className="hint">Press “Send ping” afterwards to check that your receiver gets deliveries; a ping goes to every webhook whatever it subscribes to.</p>
      </fieldset>
      <button type="submit" className="primary" disabled={busy}>
        Add webhook
      </button>
    </form>
  );
}

function Deliveries({
  account,
  webhook,
  generation,
  onRefresh,
  onRedelivered,
}: {
  account: string;
  webhook: Webhook;
  generation: number;
  onRefresh: () => void;
  onRedelivered: (d: QueuedDelivery) => void;
}) {
  const base = `/v1/accounts/${seg(account)}/webhooks/${webhook.id}`;
  const deliveries = useLoad(() => get<Delivery[]>(`${base}/deliveries`), [base, generation]);
  const redeliver = useAction(async (d: Delivery) => post<QueuedDelivery>(`${base}/deliveries/${seg(d.id)}/redeliver`));
  return (
    <Section title={`Deliveries to ${webhook.url}`}>
      <p className="hint">The latest 100, newest first. Deliveries are sent in the background: press Refresh to see what became of them.</p>
      <div className="button-row">
        <button type="button" onClick={onRefresh} disabled={deliveries.loading}>
          Refresh
        </button>
      </div>
      <ErrorNotice error={redeliver.error} />
      {deliveries.loading && !deliveries.data && <Loading what="deliveries" />}
      <ErrorNotice error={deliveries.error} />
      {deliveries.data?.length === 0 && <p>Nothing has been sent to this webhook yet.</p>}
      {deliveries.data && deliveries.data.length > 0 && (
        <table className="deliveries">
          <caption>Deliveries to {webhook.url}</caption>
          <thead>
            <tr>
              <th scope="col">Event and delivery id</th>
              <th scope="col">Status</th>
              <th scope="col">Response</th>
              <th scope="col">Attempts</th>
              <th scope="col">Next attempt</th>
              <th scope="col">Created</th>
              <ActionsHeader />
            </tr>
          </thead>
          <tbody>
            {deliveries.data.map((d) => (
              <tr key={d.id}>
                <td data-label="Event and delivery id">
                  <code>{d.event}</code>
                  <br />
                  <code className="delivery-id hint">{d.id}</code>
                </td>
                <td data-label="Status" className="nowrap">
                  {deliveryStatus(d)}
                </td>
                <td data-label="Response">{d.last_status_code ?? '—'}</td>
                <td data-label="Attempts">
                  {d.attempts.length === 0 ? (
                    '0'
                  ) : (
                    <details>
                      <summary>
                        {d.attempts.length}{' '}
                        <span className="visually-hidden">
                          {d.attempts.length === 1 ? 'attempt' : 'attempts'} of delivery {d.id}
                        </span>
                      </summary>
                      <ol className="attempts">
                        {d.attempts.map((a, i) => (
                          <li key={i}>
                            <When iso={a.attempted_at} />: {attemptOutcome(a)}, {a.duration_ms} ms
                          </li>
                        ))}
                      </ol>
                    </details>
                  )}
                </td>
                <td data-label="Next attempt">
                  <When iso={d.next_attempt_at} />
                </td>
                <td data-label="Created">
                  <When iso={d.created_at} />
                </td>
                <td data-label="Actions">
                  <button
                    type="button"
                    aria-label={`Redeliver ${d.id}`}
                    disabled={redeliver.busy}
                    onClick={async () => {
                      const result = await redeliver.run(d);
                      if (result.ok) onRedelivered(result.value);
                    }}
                  >
                    Redeliver
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

export function WebhooksPage() {
  const { account = '' } = useParams();
  const base = `/v1/accounts/${seg(account)}/webhooks`;
  const hooks = useLoad(() => get<Webhook[]>(base), [base]);
  const [done, setDone] = useState<string | undefined>();
  const [made, setMade] = useState<Created | undefined>();
  const [selected, setSelected] = useState<number | undefined>();
  // Bumped to read the selected webhook's deliveries again.
  const [generation, setGeneration] = useState(0);
  const create = useAction((body: { url: string; events: string[]; description?: string }) => post<Created>(base, body));
  const ping = useAction((hook: Webhook) => post<QueuedDelivery>(`${base}/${hook.id}/ping`));
  const chosen = hooks.data?.find((h) => h.id === selected);

  return (
    <Page
      title={`Webhooks of ${account}`}
      intro={`Keysmith POSTs each event of ${account} (a credential made, expiring or revoked, a member added, a certificate issued…) to these URLs, signed with each webhook's secret, and retries a delivery that fails for about a day and a half.`}
    >
      {made && <SecretOnce made={made} onDone={() => setMade(undefined)} />}
      <Done>{done}</Done>
      <Section title="Webhooks">
        {hooks.loading && !hooks.data && <Loading what="webhooks" />}
        <ErrorNotice error={hooks.error} />
        <ErrorNotice error={ping.error} />
        {hooks.data?.length === 0 && <p>{account} has no webhooks yet.</p>}
        {hooks.data && hooks.data.length > 0 && (
          <table>
            <caption>Webhooks of {account}</caption>
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Events</th>
                <th scope="col">Description</th>
                <th scope="col">Created</th>
                <ActionsHeader />
              </tr>
            </thead>
            <tbody>
              {hooks.data.map((h) => (
                <tr key={h.id}>
                  <td data-label="URL">
                    <code className="webhook-url">{h.url}</code>
                  </td>
                  <td data-label="Events">{eventsInWords(h.events)}</td>
                  <td data-label="Description">{h.description || '—'}</td>
                  <td data-label="Created">
                    <When iso={h.created_at} /> <span className="hint">by {h.created_by}</span>
                  </td>
                  <td data-label="Actions">
                    <div className="button-row">
                      <button type="button" aria-label={`Deliveries of ${h.url}`} aria-pressed={selected === h.id} onClick={() => setSelected(h.id)}>
                        Deliveries
                      </button>
                      <button
                        type="button"
                        aria-label={`Send ping to ${h.url}`}
                        disabled={ping.busy}
                        onClick={async () => {
                          const result = await ping.run(h);
                          if (!result.ok) return;
                          setDone(`Sent a ping to ${h.url}: it is on its way. Press Refresh under its deliveries to see the answer.`);
                          setSelected(h.id);
                          setGeneration((g) => g + 1);
                        }}
                      >
                        Send ping
                      </button>
                      <ConfirmButton
                        label="Delete"
                        labelFor={h.url}
                        title={`Delete the webhook ${h.url}?`}
                        confirmLabel="Delete webhook"
                        onConfirm={async () => {
                          await del(`${base}/${h.id}`);
                          if (selected === h.id) setSelected(undefined);
                          setDone(`Deleted the webhook ${h.url} and its deliveries.`);
                          hooks.reload();
                        }}
                      >
                        <p>Nothing more is sent to it, and its deliveries are deleted with it. This cannot be undone.</p>
                      </ConfirmButton>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      {chosen && (
        <Deliveries
          key={chosen.id}
          account={account}
          webhook={chosen}
          generation={generation}
          onRefresh={() => setGeneration((g) => g + 1)}
          onRedelivered={(d) => {
            setDone(`Queued the redelivery ${d.id}: the same event, sent again as a new delivery.`);
            setGeneration((g) => g + 1);
          }}
        />
      )}
      <Section title="Add a webhook">
        <ErrorNotice error={create.error} />
        <NewWebhookForm
          busy={create.busy}
          onCreate={async (body) => {
            const result = await create.run(body);
            if (!result.ok) return false;
            setDone(undefined);
            setMade(result.value);
            hooks.reload();
            return true;
          }}
        />
      </Section>
    </Page>
  );
}
