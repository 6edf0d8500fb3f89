/**
 * Email over SMTP through a pooled nodemailer transport. The SMTP reply code decides whether a
 * failure is worth retrying: 5xx is the server's final word, 4xx and broken connections are not.
 */
import nodemailer, { type NodemailerError, type Transporter } from 'nodemailer';
import {
  PermanentDeliveryError,
  TransientDeliveryError,
  type NotificationProvider,
  type SendRequest,
  type SendResult,
} from '../provider.ts';

export interface SmtpProviderOptions {
  /**
   * `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`. Query parameters
   * become transport options and override the timeouts below.
   */
  url: string;
  /** Sender address, e.g. `"딜리고" <no-reply@deligo.kr>`. */
  from: string;
  /**
   * Used instead of a transport built from `url` (tests). The provider owns it either way:
   * close() closes it.
   */
  transport?: Transporter;
}

/** Short enough that a dead server fails the attempt well inside a job's lock, not after minutes. */
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

export function createSmtpProvider(options: SmtpProviderOptions): NotificationProvider {
  const { url, from } = options;
  if (!from) throw new Error('smtp provider requires a from address');
  if (!options.transport && !/^smtps?:\/\//i.test(url ?? '')) {
    throw new Error('smtp provider requires a url such as smtp://user:pass@host:587 or smtps://user:pass@host:465');
  }
  const transport: Transporter = options.transport ?? nodemailer.createTransport({ ...TIMEOUTS, url, pool: true });

  return {
    channel: 'email',
    name: 'smtp',
    async send({ deliveryId, recipient, message }: SendRequest): Promise<SendResult> {
      const address = recipient.email?.trim();
      if (!address) throw new PermanentDeliveryError('email needs recipient.email');
      if (!EMAIL.test(address)) throw new PermanentDeliveryError(`invalid email ${JSON.stringify(recipient.email)}: expected name@domain`);
      // Message-ID and the header come from the delivery id, so a resend after a crash can be
      // recognised as the same message by the receiving side.
      const messageId = `<${deliveryId}@deligo>`;
      try {
        const info = await transport.sendMail({
          from,
          to: recipient.name ? { name: recipient.name, address } : address,
          subject: message.title,
          text: message.body,
          html: toHtml(message.body),
          messageId,
          headers: { 'X-Deligo-Delivery': deliveryId },
        });
        return { providerMessageId: messageId, detail: { response: String(info.response ?? '') } };
      } catch (err) {
        throw classify(err);
      }
    },
    async close() {
      transport.close();
    },
  };
}

/** Maps a nodemailer failure to the error that tells the job whether to retry. */
function classify(err: unknown): PermanentDeliveryError | TransientDeliveryError {
  const e = (err ?? {}) as NodemailerError;
  const text = `smtp: ${e.message ?? String(err)}`;
  const code = e.responseCode;
  // 503 is "bad sequence of commands": the session was confused, not the message refused,
  // so a fresh connection can succeed (RFC 5321; nodemailer's own `permanent` flag agrees).
  // 535 (authentication failed) is our configuration, not the recipient: retry, so the mail
  // goes out once the credentials are fixed or the dead letter is replayed.
  if (code !== undefined && code >= 500 && code !== 503 && code !== 535) return new PermanentDeliveryError(text, { cause: err });
  // An envelope nodemailer refused before asking the server will be refused again.
  if (code === undefined && e.code === 'EENVELOPE') return new PermanentDeliveryError(text, { cause: err });
  // 4xx (greylisting, 421, 450), connection failures (ECONNECTION, ETIMEDOUT, ESOCKET, EDNS) and
  // anything unrecognised get the bounded retries rather than losing the message at once.
  return new TransientDeliveryError(text, { cause: err });
}

function toHtml(body: string): string {
  const paragraphs = body.split(/\r?\n\s*\r?\n/).map((p) => `<p>${escapeHtml(p).replace(/\r?\n/g, '<br>')}</p>`);
  return `<!doctype html><html><body>${paragraphs.join('')}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
