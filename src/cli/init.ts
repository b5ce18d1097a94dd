// `keysmith init`: on an empty database, the first user (a site admin), an account they own, and one
// user API key — all in one transaction, so a refusal or failure leaves nothing behind.
import type { Services } from '../services.ts';

export interface InitInput {
  login: string;
  account: string;
  email?: string;
  password?: string;
}

export async function initialise(services: Services, input: InitInput) {
  const origin = { cli: true as const };
  const writeUser = await services.users.prepare({
    login: input.login,
    email: input.email ?? null,
    password: input.password ?? null,
    isSiteAdmin: true,
    onlyIfFirst: true,
  });
  const writeKey = services.apiKeys.prepareUserKey({ name: 'created by keysmith init' });
  return services.db.transaction().execute(async (trx) => {
    const user = await writeUser(trx, origin);
    const account = await services.accounts.write(trx, origin, user.id, input.account);
    const key = await writeKey(trx, origin, user.id);
    return { user, account, key };
  });
}
