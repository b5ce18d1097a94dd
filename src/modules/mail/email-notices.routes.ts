// GET /v1/user/email-notices: what Keysmith emails the caller about (their own SSH keys and user API
// keys), and whether anything is sent at all. Nothing is sent unless the server has SMTP configured
// (KEYSMITH_SMTP_URL and KEYSMITH_MAIL_FROM) and the user has an address; the console says which is
// missing. A user cannot change their own address: a site admin sets it (PATCH /v1/admin/users/{login}).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../http/auth.ts';
import { errorResponses, Nullable } from '../../http/schemas.ts';
import { requireUser } from '../access/access.service.ts';
import type { OwnerNoticeKind } from './owner-notices.ts';

/**
 * Every kind of notice, in the order owner-notices.ts lists them, with the sentence a person reads.
 * A Record over OwnerNoticeKind: a kind added there fails to compile here until it has its sentence.
 */
const noticeDescriptions: Record<OwnerNoticeKind, string> = {
  created: 'A new SSH key or API key is added to your account.',
  expiring: 'One of your keys expires in 30, 7 or 1 days.',
  expired: 'One of your keys has expired.',
  revoked_leaked: 'One of your keys is revoked because it was reported as leaked.',
  dormant_warning: 'One of your keys has gone unused so long that it will be disabled in 7 days unless it is used.',
  disabled_dormant: 'One of your keys is disabled because it went unused; you can enable it again.',
};

const notices = Object.entries(noticeDescriptions).map(([kind, description]) => ({ kind, description }));

const EmailNotices = Type.Object({
  email_enabled: Type.Boolean({ description: 'Whether you are emailed at all: the server sends email and you have an address' }),
  mail_configured: Type.Boolean({ description: 'Whether this server sends email (KEYSMITH_SMTP_URL and KEYSMITH_MAIL_FROM are set)' }),
  address: Nullable(Type.String({ description: 'Where your email goes; a site admin sets it' })),
  notices: Type.Array(
    Type.Object({
      kind: Type.String({ description: Object.keys(noticeDescriptions).join(', ') }),
      description: Type.String(),
    }),
    { description: 'What you are emailed about, for your own SSH keys and user API keys' },
  ),
});

export const emailNoticeRoutes: FastifyPluginAsyncTypebox<{ mailConfigured: boolean }> = async (app, { mailConfigured }) => {
  app.get(
    '/v1/user/email-notices',
    { schema: { tags: ['users'], summary: 'What you are emailed about, and whether email is sent to you at all', response: { 200: EmailNotices, ...errorResponses } } },
    async (request) => {
      const user = requireUser(actorOf(request), 'Email notices', "are about a person's own keys");
      // The address read with the credential (as GET /v1/user shows it).
      const address = user.profile.email;
      return { email_enabled: mailConfigured && address !== null, mail_configured: mailConfigured, address, notices };
    },
  );
};
