// Reports of leaked credentials (README: Leaked credentials), taken from anyone: the reporter's
// address is rate limited across every node, each report is handed to the modules that own the
// credentials it may contain (API keys today), and the answer never depends on what was found.
import { AppError } from '../../errors.ts';
import type { AnonymousOrigin } from '../audit/audit.service.ts';
import type { LeakedKeyRevocation } from '../api-keys/leaked-keys.ts';
import type { RateLimiter } from '../limits/rate-limiter.ts';

/** Reports per address and window (GitHub's credential revocation API allows about as many). */
export const REPORTS_PER_HOUR = 60;
const WINDOW_SECONDS = 3600;
const BUCKET = 'credentials.revoke';

/** "1 second", "40 seconds", "15 minutes": a wait in the unit a person reads. */
function waitInWords(seconds: number): string {
  if (seconds < 120) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

interface Deps {
  rateLimits: Pick<RateLimiter, 'hit'>;
  apiKeys: Pick<LeakedKeyRevocation, 'revokeLeaked'>;
}

export function createLeakReportService({ rateLimits, apiKeys }: Deps) {
  return {
    /** Counts one report from this address; past the hour's allowance a 429 with the wait. */
    async admit(address: string): Promise<void> {
      const { allowed, retryAfterSeconds } = await rateLimits.hit(BUCKET, address, REPORTS_PER_HOUR, WINDOW_SECONDS);
      if (allowed) return;
      throw new AppError(
        'rate_limited',
        `Too many leak reports from your address: at most ${REPORTS_PER_HOUR} an hour are taken; try again in ${waitInWords(retryAfterSeconds)}.`,
        'Wait for the time Retry-After gives, or send up to 1000 credentials in one report.',
        { extra: { retry_after_seconds: retryAfterSeconds } },
      );
    },

    /** Revokes every live credential among the strings; tells the caller nothing about which. */
    async report(origin: AnonymousOrigin, credentials: readonly string[]): Promise<void> {
      await apiKeys.revokeLeaked(origin, credentials);
    },
  };
}

export type LeakReportService = ReturnType<typeof createLeakReportService>;
