import { Type } from 'typebox';

/** Longer than any Keysmith token (40 characters) or any other provider's, short of abuse. */
export const MAX_REPORTED_LENGTH = 512;
export const MAX_REPORTED_CREDENTIALS = 1000;

export const LeakReportBody = Type.Object(
  {
    credentials: Type.Array(Type.String({ maxLength: MAX_REPORTED_LENGTH }), {
      minItems: 1,
      maxItems: MAX_REPORTED_CREDENTIALS,
      description: 'The leaked strings, as found. Keysmith API keys among them are revoked; anything else is ignored.',
    }),
  },
  { additionalProperties: false },
);

/** The one answer to every accepted report, whatever it contained. */
export const LEAK_REPORT_ACCEPTED = {
  message: 'Thank you. Any live Keysmith API key among these credentials has been revoked.',
} as const;

export const LeakReportAccepted = Type.Object({ message: Type.String() });
