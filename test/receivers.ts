// Real receivers for what Keysmith sends, shared by the tests: an HTTP server on 127.0.0.1 that keeps
// each webhook POST with its raw body (answering the statuses a test queues), and an SMTP server
// (smtp-server, no STARTTLS) that keeps each message with its headers unfolded and body decoded.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export interface ReceivedPost {
  headers: http.IncomingHttpHeaders;
  raw: string;
}

/** A webhook receiver that records each POST and answers with the next status in `answers` (then 200). */
export async function startWebhookReceiver() {
  const received: ReceivedPost[] = [];
  const answers: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = answers.shift() ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/keysmith`, received, answers, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

/** Whether the delivery's X-Keysmith-Signature-256 is the HMAC-SHA256 of its raw body under `secret`. */
export const signedWith = (secret: string, r: ReceivedPost) => r.headers['x-keysmith-signature-256'] === `sha256=${createHmac('sha256', secret).update(r.raw).digest('hex')}`;

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  headers: string;
  subject: string;
  /** The body, quoted-printable undone. */
  text: string;
}

/** The headers of a raw message with folded lines unfolded, and its decoded body. */
function parseMessage(raw: string): Pick<ReceivedMail, 'headers' | 'subject' | 'text'> {
  const split = raw.indexOf('\r\n\r\n');
  const headers = raw.slice(0, split).replace(/\r\n(?=[ \t])/g, '');
  let body = raw.slice(split + 4);
  if (/^content-transfer-encoding: quoted-printable$/im.test(headers)) {
    body = Buffer.from(
      body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8');
  }
  const subjectLine = /^subject: (.*)$/im.exec(headers)?.[1] ?? '';
  // nodemailer writes a subject with quotes as encoded words (=?UTF-8?Q?…?=); the space between two is not text (RFC 2047).
  const subject = subjectLine.replace(/\?=\s+=\?/g, '?==?').replace(/=\?UTF-8\?Q\?(.*?)\?=/gi, (_m, q: string) =>
    Buffer.from(
      q.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_n, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8'),
  );
  return { headers, subject, text: body.replace(/\r\n/g, '\n') };
}

/** A real SMTP server that keeps each message, answering the next code in `answers` (250 when empty). */
export async function startSmtp(options: { auth?: { user: string; pass: string } } = {}) {
  const received: ReceivedMail[] = [];
  const answers: number[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    ...(options.auth
      ? {
          allowInsecureAuth: true,
          onAuth(auth, _session, callback) {
            if (auth.username === options.auth!.user && auth.password === options.auth!.pass) return callback(null, { user: auth.username });
            return callback(new Error('Invalid username or password'));
          },
        }
      : {}),
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const code = answers.shift();
        if (code !== undefined) {
          const err = Object.assign(new Error('Try again later'), { responseCode: code });
          return callback(err);
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const from = (session.envelope.mailFrom as SMTPServerAddress | false) || undefined;
        received.push({ from: from?.address ?? '', to: session.envelope.rcptTo.map((r) => r.address), raw, ...parseMessage(raw) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, received, answers, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export type Smtp = Awaited<ReturnType<typeof startSmtp>>;

/** The settings that point Keysmith's email at this server. */
export const mailEnv = (smtp: Smtp, from: string, userinfo = '') => ({ KEYSMITH_SMTP_URL: `smtp://${userinfo}127.0.0.1:${smtp.port}`, KEYSMITH_MAIL_FROM: from });

/** The messages that went to this address. */
export const mailTo = (smtp: Smtp, address: string) => smtp.received.filter((m) => m.to.includes(address));
