// The shared security matrix: every route, every kind of caller. A route added without a row here
// fails the coverage test at the bottom. Rows say which permission of the README's role table the
// route needs; the expected status for each caller (and for a scope-limited key) is derived from that
// table, written out here.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { mintToken } from '../src/crypto/token.ts';
import type { Permission, Role } from '../src/modules/access/roles.ts';
import { addServiceKey, addUser, seed } from './factories.ts';
import { appFor, bearer, forEachDatabase, testClock, type TestApp } from './harness.ts';
import { ed25519Line } from './ssh-fixtures.ts';
import { softwareKey } from './sshsig-helpers.ts';

type Who = 'owner' | 'admin' | 'read_write' | 'read_only' | 'svc_admin' | 'svc_read_write' | 'svc_read_only' | 'svc_runner' | 'svc_ssh_server' | 'outsider' | 'foreign_service';
// Owner last: some rows (deleting the account) succeed once.
const everyone: Who[] = ['outsider', 'foreign_service', 'read_only', 'svc_read_only', 'svc_runner', 'svc_ssh_server', 'read_write', 'svc_read_write', 'svc_admin', 'admin', 'owner'];
const roleOf: Partial<Record<Who, Role>> = {
  owner: 'owner',
  admin: 'admin',
  read_write: 'read_write',
  read_only: 'read_only',
  svc_admin: 'admin',
  svc_read_write: 'read_write',
  svc_read_only: 'read_only',
  svc_runner: 'runner',
  svc_ssh_server: 'ssh_server',
};
const isService = (who: Who) => who.startsWith('svc_') || who === 'foreign_service';
// API key names are unique per owner: each key a row creates gets its own.
let serial = 0;

interface World {
  t: TestApp;
  keys: Record<Who, string>;
  /** The owner's key limited to SCOPED_TO. */
  scopedKey: string;
  /** The owner's console session: its cookie and CSRF token. */
  session: { cookie: string; csrf: string };
  counter: number;
  /** What a row's url() made, for its body() (the fingerprint of a host key to delete). */
  made?: string;
}

// The README's role table, written out here on its own so that a change to the app's table cannot pass unnoticed.
const contractTable: Record<Permission, Role[]> = {
  'project.read': ['read_only', 'read_write', 'admin', 'owner', 'runner'],
  'project.write': ['read_write', 'admin', 'owner'],
  'project_key.write': ['read_write', 'admin', 'owner'],
  'credentials.fetch': ['runner'],
  'member.read': ['read_only', 'read_write', 'admin', 'owner'],
  'member.manage': ['admin', 'owner'],
  'owner.manage': ['owner'],
  'account.delete': ['owner'],
  'service_key.manage': ['admin', 'owner'],
  'runner_key.manage': ['owner'],
  'audit.read': ['admin', 'owner'],
  'ssh.lookup': ['ssh_server'],
  'ssh_ca.read': ['read_only', 'read_write', 'admin', 'owner', 'runner', 'ssh_server'],
  'ssh_ca.manage': ['admin', 'owner'],
  'ssh_certificate.manage': ['admin', 'owner'],
  'checkout_certificate.issue': ['runner'],
  'policy.read': ['read_only', 'read_write', 'admin', 'owner'],
  'policy.manage': ['admin', 'owner'],
  'webhook.manage': ['admin', 'owner'],
};

// The scope a scope-limited key needs for each permission (README: Scopes), written out the same way.
const contractScopes: Record<Permission, string> = {
  'project.read': 'read:project',
  'project.write': 'write:project',
  'project_key.write': 'write:project',
  'credentials.fetch': 'read:project',
  'member.read': 'read:project',
  'member.manage': 'admin:account',
  'owner.manage': 'admin:account',
  'account.delete': 'admin:account',
  'service_key.manage': 'admin:account',
  'runner_key.manage': 'admin:account',
  'audit.read': 'admin:account',
  'ssh.lookup': 'read:public_key',
  'ssh_ca.read': 'read:public_key',
  'ssh_ca.manage': 'admin:account',
  'ssh_certificate.manage': 'admin:account',
  'checkout_certificate.issue': 'read:project',
  'policy.read': 'read:project',
  'policy.manage': 'admin:account',
  'webhook.manage': 'admin:account',
};
/** The scope-limited caller: the owner's own key, created with `scopes: [SCOPED_TO]`. */
const SCOPED_TO = 'read:project';
/** admin:x includes write:x, which includes read:x. */
function scopeCovers(held: string, needed: string): boolean {
  const rank = { read: 1, write: 2, admin: 3 } as const;
  const [heldLevel, heldResource] = held.split(':') as [keyof typeof rank, string];
  const [neededLevel, neededResource] = needed.split(':') as [keyof typeof rank, string];
  return heldResource === neededResource && rank[heldLevel] >= rank[neededLevel];
}

/** Who may call it: a permission in the acme account, or one of these caller-level rules. */
type Rule = Permission | 'any' | 'users' | 'site_admin' | 'session_cookie' | 'immutable';

interface Row {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** As in the OpenAPI description, to check coverage. */
  route: string;
  rule: Rule;
  /** Where the account comes from: the X-Keysmith-Account header, the path, or nowhere. */
  account: 'header' | 'path' | 'none';
  /** The concrete URL; may create what the request acts on, fresh for each caller. */
  url: (w: World, who: Who) => Promise<string> | string;
  body?: (w: World) => Record<string, unknown>;
  /** The success status when it is not the method's usual one (201 POST, 204 DELETE, 200 otherwise). */
  ok?: number;
  /** Tells apart two rows of one route. */
  note?: string;
}

/** A fresh webhook of acme, made by its owner, pointing at a port nothing listens on. */
async function ownersWebhook(w: World): Promise<number> {
  const res = await w.t.request({ method: 'POST', url: '/v1/accounts/acme/webhooks', headers: bearer(w.keys.owner), payload: { url: `http://127.0.0.1:9/hook-${++w.counter}`, events: ['*'] } });
  assert.equal(res.statusCode, 201, res.body);
  return (res.json() as { id: number }).id;
}

const rows: Row[] = [
  { method: 'GET', route: '/v1/user', rule: 'any', account: 'none', url: () => '/v1/user' },
  { method: 'POST', route: '/v1/admin/users', rule: 'site_admin', account: 'none', url: () => '/v1/admin/users', body: (w) => ({ login: `newbie${++w.counter}` }) },
  { method: 'GET', route: '/v1/admin/users', rule: 'site_admin', account: 'none', url: () => '/v1/admin/users', ok: 200 },
  { method: 'GET', route: '/v1/admin/users/{login}', rule: 'site_admin', account: 'none', url: () => '/v1/admin/users/dan', ok: 200 },
  { method: 'PATCH', route: '/v1/admin/users/{login}', rule: 'site_admin', account: 'none', url: () => '/v1/admin/users/frank', body: () => ({ name: 'Frank' }), ok: 200 },
  {
    method: 'DELETE',
    route: '/v1/admin/users/{login}',
    rule: 'site_admin',
    account: 'none',
    url: async (w) => {
      const login = `leaving${++w.counter}`;
      await addUser(w.t, login);
      return `/v1/admin/users/${login}`;
    },
    ok: 204,
  },
  { method: 'POST', route: '/v1/admin/users/{login}/password-reset', rule: 'site_admin', account: 'none', url: () => '/v1/admin/users/frank/password-reset' },
  // The same password again: alice's (the owner's) stays what buildWorld signed in with; the others have none yet.
  {
    method: 'PUT',
    route: '/v1/user/password',
    rule: 'users',
    account: 'none',
    url: () => '/v1/user/password',
    body: () => ({ current_password: 'correct horse battery staple', new_password: 'correct horse battery staple' }),
    ok: 204,
  },
  { method: 'DELETE', route: '/v1/admin/users/{login}/sign-in-throttle', rule: 'site_admin', account: 'none', url: () => '/v1/admin/users/dan/sign-in-throttle', ok: 204 },
  { method: 'GET', route: '/v1/admin/audit-events', rule: 'site_admin', account: 'none', url: () => '/v1/admin/audit-events', ok: 200 },
  { method: 'GET', route: '/v1/accounts', rule: 'any', account: 'none', url: () => '/v1/accounts' },
  { method: 'POST', route: '/v1/accounts', rule: 'users', account: 'none', url: () => '/v1/accounts', body: (w) => ({ name: `team${++w.counter}` }) },
  { method: 'DELETE', route: '/v1/accounts/{account}', rule: 'account.delete', account: 'path', url: () => '/v1/accounts/acme' },
  { method: 'GET', route: '/v1/accounts/{account}/members', rule: 'member.read', account: 'path', url: () => '/v1/accounts/acme/members' },
  {
    method: 'PUT',
    route: '/v1/accounts/{account}/members/{login}',
    rule: 'member.manage',
    account: 'path',
    url: () => '/v1/accounts/acme/members/frank',
    body: () => ({ role: 'read_only' }),
  },
  {
    method: 'DELETE',
    route: '/v1/accounts/{account}/members/{login}',
    rule: 'member.manage',
    account: 'path',
    url: async (w) => {
      const login = `gone${++w.counter}`;
      await addUser(w.t, login, { account: 'acme', role: 'read_only', by: w.keys.owner });
      return `/v1/accounts/acme/members/${login}`;
    },
  },
  { method: 'GET', route: '/v1/projects', rule: 'project.read', account: 'header', url: () => '/v1/projects' },
  { method: 'POST', route: '/v1/projects', rule: 'project.write', account: 'header', url: () => '/v1/projects', body: (w) => ({ vcs_type: 'gh', name: `p${++w.counter}` }) },
  { method: 'GET', route: '/v1/projects/{vcs}/{account}/{name}', rule: 'project.read', account: 'path', url: () => '/v1/projects/gh/acme/web' },
  {
    method: 'DELETE',
    route: '/v1/projects/{vcs}/{account}/{name}',
    rule: 'project.write',
    account: 'path',
    url: async (w) => {
      const name = `doomed${++w.counter}`;
      const res = await w.t.request({ method: 'POST', url: '/v1/projects', headers: { ...bearer(w.keys.owner), 'x-keysmith-account': 'acme' }, payload: { vcs_type: 'gh', name } });
      assert.equal(res.statusCode, 201);
      return `/v1/projects/gh/acme/${name}`;
    },
  },
  { method: 'GET', route: '/v1/user/api-keys', rule: 'users', account: 'none', url: () => '/v1/user/api-keys' },
  { method: 'GET', route: '/v1/user/email-notices', rule: 'users', account: 'none', url: () => '/v1/user/email-notices' },
  { method: 'POST', route: '/v1/user/api-keys', rule: 'users', account: 'none', url: () => '/v1/user/api-keys', body: () => ({ name: `laptop ${++serial}` }) },
  {
    method: 'DELETE',
    route: '/v1/user/api-keys/{id}',
    rule: 'users',
    account: 'none',
    url: async (w, who) => {
      if (isService(who)) return '/v1/user/api-keys/1';
      const res = await w.t.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(w.keys[who]), payload: { name: `to delete ${++serial}` } });
      return `/v1/user/api-keys/${(res.json() as { id: number }).id}`;
    },
  },
  // Rotation takes the permissions of deleting the key.
  {
    method: 'POST',
    route: '/v1/user/api-keys/{id}/rotate',
    rule: 'users',
    account: 'none',
    url: async (w, who) => {
      if (isService(who)) return '/v1/user/api-keys/1/rotate';
      const res = await w.t.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(w.keys[who]), payload: { name: `to rotate ${++serial}` } });
      return `/v1/user/api-keys/${(res.json() as { id: number }).id}/rotate`;
    },
    body: () => ({ grace_seconds: 60 }),
  },
  // Enabling a key that went dormant takes the permissions of deleting it (a key that is not disabled: 200, nothing changes).
  {
    method: 'POST',
    route: '/v1/user/api-keys/{id}/enable',
    rule: 'users',
    account: 'none',
    ok: 200,
    url: async (w, who) => {
      if (isService(who)) return '/v1/user/api-keys/1/enable';
      const res = await w.t.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(w.keys[who]), payload: { name: `to enable ${++serial}` } });
      return `/v1/user/api-keys/${(res.json() as { id: number }).id}/enable`;
    },
  },
  {
    method: 'POST',
    route: '/v1/service-api-keys/{id}/enable',
    rule: 'service_key.manage',
    account: 'header',
    ok: 200,
    url: async (w) => `/v1/service-api-keys/${(await addServiceKey(w.t, w.keys.owner, 'acme', 'read_only')).id}/enable`,
  },
  {
    method: 'POST',
    route: '/v1/service-api-keys/{id}/enable',
    note: 'runner',
    rule: 'runner_key.manage',
    account: 'header',
    ok: 200,
    url: async (w) => `/v1/service-api-keys/${(await addServiceKey(w.t, w.keys.owner, 'acme', 'runner', { name: `runner ${++w.counter}` })).id}/enable`,
  },
  { method: 'GET', route: '/v1/service-api-keys', rule: 'service_key.manage', account: 'header', url: () => '/v1/service-api-keys' },
  { method: 'POST', route: '/v1/service-api-keys', rule: 'service_key.manage', account: 'header', url: () => '/v1/service-api-keys', body: () => ({ name: `ci ${++serial}`, role: 'read_only' }) },
  {
    method: 'DELETE',
    route: '/v1/service-api-keys/{id}',
    rule: 'service_key.manage',
    account: 'header',
    url: async (w) => `/v1/service-api-keys/${(await addServiceKey(w.t, w.keys.owner, 'acme', 'read_only')).id}`,
  },
  // A runner key reads private keys: only an owner may create or delete one.
  {
    method: 'POST',
    route: '/v1/service-api-keys',
    note: 'runner',
    rule: 'runner_key.manage',
    account: 'header',
    url: () => '/v1/service-api-keys',
    body: () => ({ name: 'ci runner', role: 'runner' }),
  },
  {
    method: 'DELETE',
    route: '/v1/service-api-keys/{id}',
    note: 'runner',
    rule: 'runner_key.manage',
    account: 'header',
    url: async (w) => `/v1/service-api-keys/${(await addServiceKey(w.t, w.keys.owner, 'acme', 'runner', { name: `runner ${++w.counter}` })).id}`,
  },
  {
    method: 'POST',
    route: '/v1/service-api-keys/{id}/rotate',
    rule: 'service_key.manage',
    account: 'header',
    url: async (w) => `/v1/service-api-keys/${(await addServiceKey(w.t, w.keys.owner, 'acme', 'read_only')).id}/rotate`,
    body: () => ({ grace_seconds: 60 }),
  },
  {
    method: 'POST',
    route: '/v1/service-api-keys/{id}/rotate',
    note: 'runner',
    rule: 'runner_key.manage',
    account: 'header',
    url: async (w) => `/v1/service-api-keys/${(await addServiceKey(w.t, w.keys.owner, 'acme', 'runner', { name: `runner ${++w.counter}` })).id}/rotate`,
    body: () => ({}),
  },
  { method: 'GET', route: '/v1/audit-events', rule: 'audit.read', account: 'header', url: () => '/v1/audit-events' },
  { method: 'GET', route: '/v1/user/audit-events', rule: 'any', account: 'none', url: () => '/v1/user/audit-events' },
  { method: 'DELETE', route: '/v1/session', rule: 'session_cookie', account: 'none', url: () => '/v1/session' },
  // An SSH server's questions: its service key's own account, no person.
  {
    method: 'GET',
    route: '/v1/ssh/authorized-keys',
    rule: 'ssh.lookup',
    account: 'none',
    url: () => `/v1/ssh/authorized-keys?user=alice&fingerprint=${encodeURIComponent('SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s')}&mode=git&command=/usr/local/bin/keysmith-git-serve`,
  },
  { method: 'POST', route: '/v1/ssh/authorize', rule: 'ssh.lookup', account: 'none', url: () => '/v1/ssh/authorize', body: () => ({ key: 'key-1', project: 'gh/acme/web', access: 'read' }), ok: 200 },

  // The account SSH CA and its certificates.
  {
    method: 'GET',
    route: '/v1/ssh/authorized-principals',
    rule: 'ssh.lookup',
    account: 'none',
    url: () => `/v1/ssh/authorized-principals?user=alice&serial=1&ca=${encodeURIComponent('SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s')}`,
  },
  { method: 'GET', route: '/v1/admin/policy', rule: 'site_admin', account: 'none', url: () => '/v1/admin/policy', ok: 200 },
  { method: 'PUT', route: '/v1/admin/policy', rule: 'site_admin', account: 'none', url: () => '/v1/admin/policy', body: () => ({ disable_unused_after_days: 400 }), ok: 200 },
  { method: 'GET', route: '/v1/admin/policy/violations', rule: 'site_admin', account: 'none', url: () => '/v1/admin/policy/violations', ok: 200 },
  { method: 'GET', route: '/v1/accounts/{account}/policy/violations', rule: 'policy.read', account: 'path', url: () => '/v1/accounts/acme/policy/violations' },
  { method: 'GET', route: '/v1/accounts/{account}/policy', rule: 'policy.read', account: 'path', url: () => '/v1/accounts/acme/policy' },
  { method: 'PUT', route: '/v1/accounts/{account}/policy', rule: 'policy.manage', account: 'path', url: () => '/v1/accounts/acme/policy', body: () => ({ disable_unused_after_days: 365 }), ok: 200 },
  { method: 'GET', route: '/v1/accounts/{account}/webhooks', rule: 'webhook.manage', account: 'path', url: () => '/v1/accounts/acme/webhooks' },
  {
    method: 'POST',
    route: '/v1/accounts/{account}/webhooks',
    rule: 'webhook.manage',
    account: 'path',
    url: () => '/v1/accounts/acme/webhooks',
    body: (w) => ({ url: `http://127.0.0.1:9/hook-${++w.counter}`, events: ['credential.created'] }),
  },
  { method: 'DELETE', route: '/v1/accounts/{account}/webhooks/{id}', rule: 'webhook.manage', account: 'path', url: async (w) => `/v1/accounts/acme/webhooks/${await ownersWebhook(w)}` },
  {
    method: 'POST',
    route: '/v1/accounts/{account}/webhooks/{id}/ping',
    rule: 'webhook.manage',
    account: 'path',
    url: async (w) => `/v1/accounts/acme/webhooks/${await ownersWebhook(w)}/ping`,
    ok: 202,
  },
  {
    method: 'GET',
    route: '/v1/accounts/{account}/webhooks/{id}/deliveries',
    rule: 'webhook.manage',
    account: 'path',
    url: async (w) => `/v1/accounts/acme/webhooks/${await ownersWebhook(w)}/deliveries`,
  },
  {
    method: 'POST',
    route: '/v1/accounts/{account}/webhooks/{id}/deliveries/{delivery}/redeliver',
    rule: 'webhook.manage',
    account: 'path',
    url: async (w) => {
      const id = await ownersWebhook(w);
      const ping = await w.t.request({ method: 'POST', url: `/v1/accounts/acme/webhooks/${id}/ping`, headers: bearer(w.keys.owner) });
      return `/v1/accounts/acme/webhooks/${id}/deliveries/${(ping.json() as { id: string }).id}/redeliver`;
    },
    ok: 202,
  },
  { method: 'GET', route: '/v1/accounts/{account}/ssh-ca', rule: 'ssh_ca.read', account: 'path', url: () => '/v1/accounts/acme/ssh-ca' },
  {
    method: 'POST',
    route: '/v1/accounts/{account}/ssh-ca/rotate',
    rule: 'ssh_ca.manage',
    account: 'path',
    url: async (w) => {
      // Rotation refuses while a previous key is trusted: drop it first, as the owner.
      await w.t.request({ method: 'DELETE', url: '/v1/accounts/acme/ssh-ca/previous', headers: bearer(w.keys.owner) });
      return '/v1/accounts/acme/ssh-ca/rotate';
    },
  },
  {
    method: 'DELETE',
    route: '/v1/accounts/{account}/ssh-ca/previous',
    rule: 'ssh_ca.manage',
    account: 'path',
    url: async (w) => {
      await w.t.request({ method: 'DELETE', url: '/v1/accounts/acme/ssh-ca/previous', headers: bearer(w.keys.owner) });
      const res = await w.t.request({ method: 'POST', url: '/v1/accounts/acme/ssh-ca/rotate', headers: bearer(w.keys.owner) });
      assert.equal(res.statusCode, 201, res.body);
      return '/v1/accounts/acme/ssh-ca/previous';
    },
  },
  {
    method: 'POST',
    route: '/v1/user/ssh-certificates',
    rule: 'users',
    account: 'none',
    url: async (w, who) => {
      w.made = ed25519Line();
      if (!isService(who)) {
        const res = await w.t.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(w.keys[who]), payload: { key: w.made } });
        assert.equal(res.statusCode, 201, res.body);
      }
      return '/v1/user/ssh-certificates';
    },
    body: (w) => ({ public_key: w.made! }),
  },
  { method: 'GET', route: '/v1/user/ssh-certificates', rule: 'users', account: 'none', url: () => '/v1/user/ssh-certificates' },
  {
    method: 'POST',
    route: '/v1/projects/{vcs}/{account}/{name}/checkout-certificate',
    rule: 'checkout_certificate.issue',
    account: 'path',
    url: () => '/v1/projects/gh/acme/web/checkout-certificate',
    body: () => ({ public_key: ed25519Line() }),
  },
  { method: 'GET', route: '/v1/accounts/{account}/ssh-certificates', rule: 'ssh_certificate.manage', account: 'path', url: () => '/v1/accounts/acme/ssh-certificates' },
  {
    method: 'DELETE',
    route: '/v1/accounts/{account}/ssh-certificates/{serial}',
    rule: 'ssh_certificate.manage',
    account: 'path',
    url: async (w) => {
      // A certificate of the owner's: others revoke it only as an owner or admin.
      const key = ed25519Line();
      assert.equal((await w.t.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(w.keys.owner), payload: { key } })).statusCode, 201);
      const res = await w.t.request({ method: 'POST', url: '/v1/user/ssh-certificates', headers: bearer(w.keys.owner), payload: { public_key: key, account: 'acme' } });
      assert.equal(res.statusCode, 201, res.body);
      return `/v1/accounts/acme/ssh-certificates/${(res.json() as { serial: number }).serial}`;
    },
  },

  // GitHub-compatible (/api/v3): same rules, GitHub's error shape.
  { method: 'GET', route: '/api/v3/user', rule: 'users', account: 'none', url: () => '/api/v3/user' },
  { method: 'GET', route: '/api/v3/user/keys', rule: 'users', account: 'none', url: () => '/api/v3/user/keys' },
  { method: 'POST', route: '/api/v3/user/keys', rule: 'users', account: 'none', url: () => '/api/v3/user/keys', body: () => ({ key: ed25519Line() }) },
  { method: 'GET', route: '/api/v3/user/keys/{key_id}', rule: 'users', account: 'none', url: (w, who) => ownKey(w, who) },
  { method: 'DELETE', route: '/api/v3/user/keys/{key_id}', rule: 'users', account: 'none', url: (w, who) => ownKey(w, who) },
  ...(['PATCH', 'PUT'] as const).flatMap((method): Row[] => [
    { method, route: '/api/v3/user/keys/{key_id}', rule: 'immutable', account: 'none', url: () => '/api/v3/user/keys/1', body: () => ({ title: 'new' }) },
    { method, route: '/api/v3/repos/{owner}/{repo}/keys/{key_id}', rule: 'immutable', account: 'none', url: () => '/api/v3/repos/acme/web/keys/1', body: () => ({ title: 'new' }) },
  ]),
  { method: 'GET', route: '/api/v3/repos/{owner}/{repo}/keys', rule: 'project.read', account: 'path', url: () => '/api/v3/repos/acme/web/keys' },
  { method: 'POST', route: '/api/v3/repos/{owner}/{repo}/keys', rule: 'project_key.write', account: 'path', url: () => '/api/v3/repos/acme/web/keys', body: () => ({ key: ed25519Line() }) },
  { method: 'GET', route: '/api/v3/repos/{owner}/{repo}/keys/{key_id}', rule: 'project.read', account: 'path', url: (w) => deployKey(w) },
  { method: 'DELETE', route: '/api/v3/repos/{owner}/{repo}/keys/{key_id}', rule: 'project_key.write', account: 'path', url: (w) => deployKey(w) },

  // Grants, integrations and a project's keys (native).
  { method: 'GET', route: '/v1/user/grants', rule: 'users', account: 'none', url: () => '/v1/user/grants' },
  { method: 'PUT', route: '/v1/user/grants/{scope}', rule: 'users', account: 'none', url: () => '/v1/user/grants/write:public_key' },
  { method: 'DELETE', route: '/v1/user/grants/{scope}', rule: 'users', account: 'none', url: () => '/v1/user/grants/write:public_key', ok: 200 },
  { method: 'GET', route: '/v1/user/integrations/heroku', rule: 'users', account: 'none', url: () => '/v1/user/integrations/heroku' },
  { method: 'DELETE', route: '/v1/user/integrations/heroku', rule: 'users', account: 'none', url: () => '/v1/user/integrations/heroku', ok: 200 },
  { method: 'GET', route: '/v1/projects/{vcs}/{account}/{name}/ssh-keys', rule: 'project.read', account: 'path', url: () => '/v1/projects/gh/acme/web/ssh-keys' },
  { method: 'GET', route: '/v1/projects/{vcs}/{account}/{name}/checkout-credentials', rule: 'credentials.fetch', account: 'path', url: () => '/v1/projects/gh/acme/web/checkout-credentials' },

  // Native key routes: the same services as the dialects above, in the native shape.
  { method: 'GET', route: '/v1/user/ssh-keys', rule: 'users', account: 'none', url: () => '/v1/user/ssh-keys' },
  { method: 'POST', route: '/v1/user/ssh-keys', rule: 'users', account: 'none', url: () => '/v1/user/ssh-keys', body: () => ({ key: ed25519Line() }) },
  { method: 'GET', route: '/v1/user/ssh-keys/{id}', rule: 'users', account: 'none', url: (w, who) => ownNativeKey(w, who) },
  { method: 'DELETE', route: '/v1/user/ssh-keys/{id}', rule: 'users', account: 'none', url: (w, who) => ownNativeKey(w, who) },
  // Proof of possession: a challenge for the caller's own key, and its signed answer (made in url(), as w.made).
  { method: 'POST', route: '/v1/user/ssh-keys/{id}/verification', rule: 'users', account: 'none', url: async (w, who) => `${await ownNativeKey(w, who)}/verification` },
  { method: 'PUT', route: '/v1/user/ssh-keys/{id}/verification', rule: 'users', account: 'none', url: (w, who) => signedChallenge(w, who), body: (w) => ({ signature: w.made }) },
  { method: 'POST', route: '/v1/user/ssh-keys/{id}/enable', rule: 'users', account: 'none', ok: 200, url: async (w, who) => `${await ownNativeKey(w, who)}/enable` },
  { method: 'GET', route: '/v1/projects/{vcs}/{account}/{name}/deploy-keys', rule: 'project.read', account: 'path', url: () => '/v1/projects/gh/acme/web/deploy-keys' },
  {
    method: 'POST',
    route: '/v1/projects/{vcs}/{account}/{name}/deploy-keys',
    rule: 'project_key.write',
    account: 'path',
    url: () => '/v1/projects/gh/acme/web/deploy-keys',
    body: () => ({ key: ed25519Line() }),
  },
  { method: 'GET', route: '/v1/projects/{vcs}/{account}/{name}/deploy-keys/{id}', rule: 'project.read', account: 'path', url: (w) => nativeDeployKey(w) },
  { method: 'DELETE', route: '/v1/projects/{vcs}/{account}/{name}/deploy-keys/{id}', rule: 'project_key.write', account: 'path', url: (w) => nativeDeployKey(w) },
  { method: 'POST', route: '/v1/projects/{vcs}/{account}/{name}/deploy-keys/{id}/enable', rule: 'project_key.write', account: 'path', ok: 200, url: async (w) => `${await nativeDeployKey(w)}/enable` },
  { method: 'GET', route: '/v1/projects/{vcs}/{account}/{name}/checkout-keys', rule: 'project.read', account: 'path', url: () => '/v1/projects/gh/acme/web/checkout-keys' },
  {
    method: 'POST',
    route: '/v1/projects/{vcs}/{account}/{name}/checkout-keys',
    rule: 'project_key.write',
    account: 'path',
    url: () => '/v1/projects/gh/acme/web/checkout-keys',
    body: () => ({ type: 'deploy' }),
  },
  { method: 'GET', route: '/v1/projects/{vcs}/{account}/{name}/checkout-keys/{fingerprint}', rule: 'project.read', account: 'path', url: (w) => nativeCheckoutKey(w) },
  { method: 'DELETE', route: '/v1/projects/{vcs}/{account}/{name}/checkout-keys/{fingerprint}', rule: 'project_key.write', account: 'path', url: (w) => nativeCheckoutKey(w) },
  {
    method: 'POST',
    route: '/v1/projects/{vcs}/{account}/{name}/ssh-keys',
    rule: 'project_key.write',
    account: 'path',
    url: () => '/v1/projects/gh/acme/web/ssh-keys',
    body: () => ({ hostname: 'deploy.example.com', private_key: pkcs8() }),
  },
  {
    method: 'DELETE',
    route: '/v1/projects/{vcs}/{account}/{name}/ssh-keys/{fingerprint}',
    rule: 'project_key.write',
    account: 'path',
    url: async (w) => {
      const res = await w.t.request({ method: 'POST', url: '/v1/projects/gh/acme/web/ssh-keys', headers: bearer(w.keys.owner), payload: { hostname: 'db.example.com', private_key: pkcs8() } });
      assert.equal(res.statusCode, 201, res.body);
      return `/v1/projects/gh/acme/web/ssh-keys/${encodeURIComponent((res.json() as { fingerprint_sha256: string }).fingerprint_sha256)}?hostname=db.example.com`;
    },
  },
  { method: 'PUT', route: '/v1/user/integrations/heroku', rule: 'users', account: 'none', url: () => '/v1/user/integrations/heroku', body: () => ({ apikey: 'heroku-0123456789' }) },

  // CircleCI-compatible (/api/v1.1, /api/v2).
  ...checkoutKeyRows('/api/v1.1/project/{vcs}/{account}/{project}', '/api/v1.1/project/gh/acme/web'),
  ...checkoutKeyRows('/api/v2/project/{vcs}/{account}/{project}', '/api/v2/project/gh/acme/web'),
  ...checkoutKeyRows('/api/v2/project/{slug}', '/api/v2/project/gh%2Facme%2Fweb'),
  {
    method: 'POST',
    route: '/api/v1.1/project/{vcs}/{account}/{project}/ssh-key',
    rule: 'project_key.write',
    account: 'path',
    url: () => '/api/v1.1/project/gh/acme/web/ssh-key',
    body: () => ({ hostname: 'deploy.example.com', private_key: pkcs8() }),
  },
  {
    method: 'DELETE',
    route: '/api/v1.1/project/{vcs}/{account}/{project}/ssh-key',
    rule: 'project_key.write',
    account: 'path',
    ok: 200,
    url: async (w) => {
      const res = await w.t.request({ method: 'POST', url: '/api/v1.1/project/gh/acme/web/ssh-key', headers: bearer(w.keys.owner), payload: { hostname: 'db.example.com', private_key: pkcs8() } });
      assert.equal(res.statusCode, 201, res.body);
      w.made = (res.json() as { fingerprint: string }).fingerprint;
      return '/api/v1.1/project/gh/acme/web/ssh-key';
    },
    body: (w) => ({ fingerprint: w.made!, hostname: 'db.example.com' }),
  },
  { method: 'POST', route: '/api/v1.1/user/heroku-key', rule: 'users', account: 'none', url: () => '/api/v1.1/user/heroku-key', body: () => ({ apikey: 'heroku-0123456789' }) },
  { method: 'POST', route: '/user/heroku-key', rule: 'users', account: 'none', url: () => '/user/heroku-key', body: () => ({ apikey: 'heroku-0123456789' }) },
];

/** A fresh private key as PEM (PKCS#8): a per-host key can be added once per host. */
function pkcs8(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

function checkoutKeyRows(route: string, url: string): Row[] {
  const fresh = async (w: World) => {
    const res = await w.t.request({ method: 'POST', url: `${url}/checkout-key`, headers: bearer(w.keys.owner), payload: { type: 'deploy-key' } });
    assert.equal(res.statusCode, 201, res.body);
    return `${url}/checkout-key/${(res.json() as { fingerprint: string }).fingerprint}`;
  };
  return [
    { method: 'GET', route: `${route}/checkout-key`, rule: 'project.read', account: 'path', url: () => `${url}/checkout-key` },
    { method: 'POST', route: `${route}/checkout-key`, rule: 'project_key.write', account: 'path', url: () => `${url}/checkout-key`, body: () => ({ type: 'deploy-key' }) },
    { method: 'GET', route: `${route}/checkout-key/{fingerprint}`, rule: 'project.read', account: 'path', url: fresh },
    { method: 'DELETE', route: `${route}/checkout-key/{fingerprint}`, rule: 'project_key.write', account: 'path', url: fresh, ok: 200 },
  ];
}

/** A key of the caller's own (service keys have none: any id will do, they are refused first). */
async function ownKey(w: World, who: Who): Promise<string> {
  if (isService(who)) return '/api/v3/user/keys/1';
  const res = await w.t.request({ method: 'POST', url: '/api/v3/user/keys', headers: bearer(w.keys[who]), payload: { key: ed25519Line() } });
  assert.equal(res.statusCode, 201, res.body);
  return `/api/v3/user/keys/${(res.json() as { id: number }).id}`;
}

/** The native twin of ownKey. */
async function ownNativeKey(w: World, who: Who): Promise<string> {
  if (isService(who)) return '/v1/user/ssh-keys/1';
  const res = await w.t.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(w.keys[who]), payload: { key: ed25519Line() } });
  assert.equal(res.statusCode, 201, res.body);
  return `/v1/user/ssh-keys/${(res.json() as { id: number }).id}`;
}

/** A key of the caller's with a live challenge, signed; the signature waits in w.made for body(). */
async function signedChallenge(w: World, who: Who): Promise<string> {
  w.made = 'not a signature';
  if (isService(who)) return '/v1/user/ssh-keys/1/verification';
  const key = softwareKey();
  const res = await w.t.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(w.keys[who]), payload: { key: key.line } });
  assert.equal(res.statusCode, 201, res.body);
  const url = `/v1/user/ssh-keys/${(res.json() as { id: number }).id}/verification`;
  const challenge = await w.t.request({ method: 'POST', url, headers: bearer(w.keys[who]) });
  assert.equal(challenge.statusCode, 201, challenge.body);
  w.made = key.signSshsig((challenge.json() as { challenge: string }).challenge);
  return url;
}

async function nativeDeployKey(w: World): Promise<string> {
  const res = await w.t.request({ method: 'POST', url: '/v1/projects/gh/acme/web/deploy-keys', headers: bearer(w.keys.owner), payload: { key: ed25519Line() } });
  assert.equal(res.statusCode, 201, res.body);
  return `/v1/projects/gh/acme/web/deploy-keys/${(res.json() as { id: number }).id}`;
}

async function nativeCheckoutKey(w: World): Promise<string> {
  const res = await w.t.request({ method: 'POST', url: '/v1/projects/gh/acme/web/checkout-keys', headers: bearer(w.keys.owner), payload: { type: 'deploy' } });
  assert.equal(res.statusCode, 201, res.body);
  return `/v1/projects/gh/acme/web/checkout-keys/${encodeURIComponent((res.json() as { fingerprint_sha256: string }).fingerprint_sha256)}`;
}

async function deployKey(w: World): Promise<string> {
  const res = await w.t.request({ method: 'POST', url: '/api/v3/repos/acme/web/keys', headers: bearer(w.keys.owner), payload: { key: ed25519Line() } });
  assert.equal(res.statusCode, 201, res.body);
  return `/api/v3/repos/acme/web/keys/${(res.json() as { id: number }).id}`;
}

/** The error code in either dialect's shape (GitHub's carries none outside key validation). */
function errorCode(res: { json(): unknown }): string | undefined {
  const body = res.json() as { error?: { code: string }; code?: string; message?: string };
  if (body.error) return body.error.code;
  if (body.code) return body.code;
  assert.equal(typeof body.message, 'string', 'GitHub-shaped errors carry a message');
  return undefined;
}

/** A refusal in the route's dialect: GitHub's `{message, documentation_url}` under /api/v3, else the code. */
function assertRefusal(row: Row, res: { body: string; json(): unknown }, code: string, label: string): void {
  if (row.route.startsWith('/api/v3/')) {
    const body = res.json() as { message?: unknown; documentation_url?: unknown; error?: unknown };
    assert.equal(typeof body.message, 'string', `${label}: GitHub-shaped errors carry a message: ${res.body}`);
    assert.ok((body.message as string).length > 0, `${label}: the message is a sentence`);
    assert.match(String(body.documentation_url), /^https?:\/\/\S+\/docs/, `${label}: GitHub-shaped errors carry a documentation_url: ${res.body}`);
    assert.equal(body.error, undefined, `${label}: not the native shape`);
    return;
  }
  assert.equal(errorCode(res) ?? code, code, label);
}

/** What the scope-limited key gets: the owner's answer where its scope covers the permission, else scope_required. */
function expectedScoped(row: Row): { status: number; code?: string } | undefined {
  if (row.rule === 'any' || row.rule === 'users' || row.rule === 'site_admin' || row.rule === 'session_cookie' || row.rule === 'immutable') return undefined;
  const owner = expected(row, 'owner');
  if (owner.status >= 400) return owner;
  return scopeCovers(SCOPED_TO, contractScopes[row.rule]) ? owner : { status: 403, code: 'scope_required' };
}

/** Routes that take no credential at all. */
const publicRoutes = [
  'GET /v1/accounts/{account}/ssh-ca.pub',
  'GET /v1/accounts/{account}/ssh-ca/krl',
  'GET /healthz',
  'GET /readyz',
  'POST /v1/session',
  'GET /v1/session',
  'POST /v1/set-password',
  'POST /v1/set-password/check',
  'POST /v1/credentials/revoke',
  'GET /openapi.json',
  'GET /docs',
  'GET /api/v3/users/{username}/keys',
  'GET /{login}.keys',
];

/** Routes guarded by a token of their own (not an API key), with the setting that holds it; each has its own test below. */
const ownTokenRoutes = ['GET /metrics'];

function expected(row: Row, who: Who): { status: number; code?: string } {
  const want = expectedStatus(row, who);
  return want.status >= 200 && want.status < 300 && row.ok ? { status: row.ok } : want;
}

function expectedStatus(row: Row, who: Who): { status: number; code?: string } {
  const service = isService(who);
  switch (row.rule) {
    case 'any':
      return { status: 200 };
    case 'users':
      return service ? { status: 403, code: 'user_key_required' } : { status: row.method === 'POST' ? 201 : row.method === 'DELETE' ? 204 : 200 };
    case 'site_admin':
      return who === 'owner' ? { status: 201 } : { status: 403, code: 'site_admin_required' };
    case 'session_cookie':
      return { status: 400, code: 'bad_request' };
    case 'immutable':
      return { status: 405, code: 'method_not_allowed' };
  }
  // A route in the caller's own account (an SSH server's): the role decides, for people too.
  if (row.account === 'none') return contractTable[row.rule].includes(roleOf[who]!) ? { status: 200 } : { status: 403, code: 'role_required' };
  if (who === 'outsider') return { status: 404, code: 'not_found' };
  if (who === 'foreign_service') return row.account === 'header' ? { status: 403, code: 'account_mismatch' } : { status: 404, code: 'not_found' };
  const allowed = contractTable[row.rule].includes(roleOf[who]!);
  if (!allowed) return { status: 403, code: 'role_required' };
  return { status: row.method === 'POST' ? 201 : row.method === 'DELETE' ? 204 : row.method === 'PUT' ? (who === 'admin' || who === 'owner' ? 200 : 201) : 200 };
}

async function buildWorld(t: TestApp): Promise<World> {
  const alice = await seed(t);
  const world: World = { t, keys: {} as Record<Who, string>, scopedKey: '', session: { cookie: '', csrf: '' }, counter: 0 };
  world.keys.owner = alice.key;
  const scoped = await t.request({ method: 'POST', url: '/v1/user/api-keys', headers: bearer(alice.key), payload: { name: 'scoped', scopes: [SCOPED_TO] } });
  assert.equal(scoped.statusCode, 201, scoped.body);
  world.scopedKey = (scoped.json() as { key: string }).key;
  const signIn = await t.request({ method: 'POST', url: '/v1/session', payload: { login: alice.login, password: alice.password } });
  assert.equal(signIn.statusCode, 200, signIn.body);
  world.session = { cookie: String(signIn.headers['set-cookie']).split(';')[0]!, csrf: (signIn.json() as { csrf_token: string }).csrf_token };
  world.keys.admin = (await addUser(t, 'bob', { account: 'acme', role: 'admin', by: alice.key })).key;
  world.keys.read_write = (await addUser(t, 'carol', { account: 'acme', role: 'read_write', by: alice.key })).key;
  world.keys.read_only = (await addUser(t, 'dan', { account: 'acme', role: 'read_only', by: alice.key })).key;
  const eve = await addUser(t, 'eve');
  const evecorp = await t.request({ method: 'POST', url: '/v1/accounts', headers: bearer(eve.key), payload: { name: 'evecorp' } });
  assert.equal(evecorp.statusCode, 201);
  world.keys.outsider = eve.key;
  world.keys.foreign_service = (await addServiceKey(t, eve.key, 'evecorp', 'admin')).key;
  for (const role of ['admin', 'read_write', 'read_only', 'runner', 'ssh_server'] as const) {
    world.keys[`svc_${role}`] = (await addServiceKey(t, alice.key, 'acme', role)).key;
  }
  await addUser(t, 'frank');
  const project = await t.request({ method: 'POST', url: '/v1/projects', headers: { ...bearer(alice.key), 'x-keysmith-account': 'acme' }, payload: { vcs_type: 'gh', name: 'web' } });
  assert.equal(project.statusCode, 201);
  return world;
}

forEachDatabase('security matrix', (kind) => {
  for (const row of rows) {
    test(`${row.method} ${row.route}${row.note ? ` (${row.note})` : ''}: each caller gets what the role table allows`, async (t) => {
      const clock = testClock();
      const app = await appFor(t, kind, { clock });
      const w = await buildWorld(app);

      // Credentials that must be refused before anything else happens.
      const expiring = await app.request({
        method: 'POST',
        url: '/v1/user/api-keys',
        headers: bearer(w.keys.owner),
        payload: { name: 'short', expires_at: new Date(clock.now().getTime() + 60_000).toISOString() },
      });
      const expiredKey = (expiring.json() as { key: string }).key;
      clock.advance(120_000);
      const good = w.keys.owner;
      const wrongChecksum = good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A');
      const refused: Array<[string, Record<string, string>, string]> = [
        ['no credential', {}, 'credentials_required'],
        ['malformed', { authorization: 'Bearer not-a-key' }, 'token_invalid'],
        ['wrong checksum', bearer(wrongChecksum), 'token_invalid'],
        ['unknown key', bearer(mintToken('user').token), 'token_invalid'],
        ['expired key', bearer(expiredKey), 'token_expired'],
      ];
      for (const [label, headers, code] of refused) {
        const res = await app.request({ method: row.method, url: await row.url(w, 'owner'), headers: { ...headers, 'x-keysmith-account': 'acme' }, ...(row.body ? { payload: row.body(w) } : {}) });
        assert.equal(res.statusCode, 401, `${label}: ${res.body}`);
        assertRefusal(row, res, code, label);
        assert.ok(!res.body.includes(wrongChecksum) && !res.body.includes(expiredKey), `${label}: the credential is not echoed`);
      }

      if (row.account === 'header') {
        const res = await app.request({
          method: row.method,
          url: await row.url(w, 'owner'),
          headers: { ...bearer(good), 'x-keysmith-account': 'evecorp' },
          ...(row.body ? { payload: row.body(w) } : {}),
        });
        assert.equal(res.statusCode, 404, `a member of acme naming evecorp: ${res.body}`);
      }

      // The scope-limited key first (the owner, last below, may delete the account).
      const scopedWant = expectedScoped(row);
      if (scopedWant) {
        const url = await row.url(w, 'owner');
        const headers = { ...bearer(w.scopedKey), ...(row.account === 'header' ? { 'x-keysmith-account': 'acme' } : {}) };
        const res = await app.request({ method: row.method, url, headers, ...(row.body ? { payload: row.body(w) } : {}) });
        assert.equal(res.statusCode, scopedWant.status, `key scoped to ${SCOPED_TO} → ${row.method} ${url}: ${res.body}`);
        if (scopedWant.code) assertRefusal(row, res, scopedWant.code, `key scoped to ${SCOPED_TO}`);
      }

      // The owner's console session, on the native API: a read gets the owner's answer; a change
      // without the CSRF header is refused before anything else (changes with it: sessions.test.ts).
      if (row.route.startsWith('/v1/') && row.rule !== 'session_cookie') {
        const url = await row.url(w, 'owner');
        const headers = { cookie: w.session.cookie, ...(row.account === 'header' ? { 'x-keysmith-account': 'acme' } : {}) };
        const res = await app.request({ method: row.method, url, headers, ...(row.body ? { payload: row.body(w) } : {}) });
        const want = row.method === 'GET' ? expected(row, 'owner') : { status: 403, code: 'csrf_required' };
        assert.equal(res.statusCode, want.status, `owner's session cookie → ${row.method} ${url}: ${res.body}`);
        if (want.code) assertRefusal(row, res, want.code, "owner's session cookie");
      }

      for (const who of everyone) {
        const url = await row.url(w, who);
        const headers = { ...bearer(w.keys[who]), ...(row.account === 'header' ? { 'x-keysmith-account': 'acme' } : {}) };
        const res = await app.request({ method: row.method, url, headers, ...(row.body ? { payload: row.body(w) } : {}) });
        const want = expected(row, who);
        assert.equal(res.statusCode, want.status, `${who} → ${row.method} ${url}: ${res.body}`);
        if (want.code) assertRefusal(row, res, want.code, `${who}: error code`);
      }
    });
  }

  test('every route of the API description has a row in the matrix, and no row is stale', async (t) => {
    const app = await appFor(t, kind);
    const spec = (await app.request({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(spec.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const covered = new Set([...rows.map((r) => `${r.method} ${r.route}`), ...publicRoutes, ...ownTokenRoutes]);
    const missing = documented.filter((r) => !covered.has(r));
    assert.deepEqual(missing, [], 'routes without a matrix row');
    const stale = rows.map((r) => `${r.method} ${r.route}`).filter((r) => !documented.includes(r));
    assert.deepEqual(stale, [], 'matrix rows for routes that do not exist');
  });

  test('GET /metrics (with KEYSMITH_METRICS_TOKEN set) is described, and refuses every API key, the session cookie and no credential; only its token reads it', async (t) => {
    const metricsToken = 'matrix-metrics-token-0123456789abcdef';
    const app = await appFor(t, kind, { env: { KEYSMITH_METRICS_TOKEN: metricsToken } });
    const w = await buildWorld(app);
    const spec = (await app.request({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    assert.ok(spec.paths['/metrics']?.get, 'GET /metrics is in the API description when it is on');
    const callers: Array<[string, Record<string, string>, string]> = [
      ['no credential', {}, 'credentials_required'],
      ["owner's session cookie", { cookie: w.session.cookie }, 'credentials_required'],
      ['scoped key', bearer(w.scopedKey), 'token_invalid'],
      ...everyone.map((who): [string, Record<string, string>, string] => [who, bearer(w.keys[who]), 'token_invalid']),
    ];
    for (const [label, headers, code] of callers) {
      const res = await app.request({ method: 'GET', url: '/metrics', headers });
      assert.equal(res.statusCode, 401, `${label}: ${res.body}`);
      assert.equal(errorCode(res), code, label);
    }
    assert.equal((await app.request({ method: 'GET', url: '/metrics', headers: bearer(metricsToken) })).statusCode, 200);
  });

  test('public routes answer without a credential', async (t) => {
    const app = await appFor(t, kind);
    assert.equal((await app.request({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.equal((await app.request({ method: 'GET', url: '/readyz' })).statusCode, 200);
    assert.equal((await app.request({ method: 'GET', url: '/openapi.json' })).statusCode, 200);
    const keys = await app.request({ method: 'GET', url: '/api/v3/users/nobody/keys' });
    assert.equal(keys.statusCode, 404, 'public, so an unknown user is a 404 rather than a 401');
    assert.equal((await app.request({ method: 'GET', url: '/nobody.keys' })).statusCode, 404, 'GET /<login>.keys is public too');
    const docs = await app.request({ method: 'GET', url: '/docs' });
    assert.ok(docs.statusCode === 200 || docs.statusCode === 302, `docs: ${docs.statusCode}`);
    const signIn = await app.request({ method: 'POST', url: '/v1/session', payload: { login: 'nobody', password: 'wrong' } });
    assert.equal(signIn.statusCode, 401);
    // Anyone may report a leaked key; a credential sent along (even a wrong one) is not even read.
    for (const headers of [{}, bearer('ksu_wrong'), { cookie: 'keysmith_session=nonsense' }]) {
      const leak = await app.request({ method: 'POST', url: '/v1/credentials/revoke', headers, payload: { credentials: [mintToken('user').token] } });
      assert.equal(leak.statusCode, 202, leak.body);
    }
  });
});
