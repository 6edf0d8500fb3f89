/**
 * SMS and KakaoTalk through a generic JSON-over-HTTP gateway. The request body comes from a
 * template, so one provider fits most Korean SMS/알림톡 vendors without vendor code.
 */
import {
  PermanentDeliveryError,
  TransientDeliveryError,
  type NotificationProvider,
  type SendRequest,
  type SendResult,
} from '../provider.ts';

export const DEFAULT_BODY_TEMPLATE = '{"to":"{{to}}","title":"{{title}}","text":"{{body}}","reference":"{{deliveryId}}"}';

export interface HttpProviderOptions {
  channel: 'sms' | 'kakao';
  /** The gateway endpoint; the message is POSTed here. */
  url: string;
  /** Full `Authorization` header value, e.g. `Bearer xyz` or `KakaoAK key`. Not sent when absent. */
  authHeader?: string;
  /**
   * JSON with `{{to}}`, `{{title}}`, `{{body}}`, `{{deliveryId}}`, `{{event}}` and `{{data.<key>}}`
   * placeholders, each inside a JSON string: values are JSON-string-escaped, not quoted.
   * Default: {@link DEFAULT_BODY_TEMPLATE}.
   */
  bodyTemplate?: string;
  /** Whole-request deadline, response body included. Default 5000. */
  timeoutMs?: number;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
}

const PLACEHOLDER = /\{\{\s*([\w.-]+)\s*\}\}/g;
const FIELDS = new Set(['to', 'title', 'body', 'deliveryId', 'event']);
const EXCERPT_CHARS = 200;

export function createHttpProvider(options: HttpProviderOptions): NotificationProvider {
  const { channel, url, authHeader } = options;
  if (channel !== 'sms' && channel !== 'kakao') throw new Error(`http provider: channel must be sms or kakao, got ${String(channel)}`);
  if (!url || !/^https?:$/.test(safeProtocol(url))) throw new Error(`http provider (${channel}): url must be an http(s) URL, got ${JSON.stringify(url)}`);
  const template = options.bodyTemplate ?? DEFAULT_BODY_TEMPLATE;
  validateTemplate(template, channel);
  const timeoutMs = options.timeoutMs ?? 5000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error(`http provider (${channel}): timeoutMs must be a positive number`);
  const doFetch = options.fetch ?? globalThis.fetch;

  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authHeader !== undefined) headers.authorization = authHeader;
  try {
    new Headers(headers); // fail at creation, not on every send
  } catch {
    throw new Error(`http provider (${channel}): authHeader is not a valid header value`);
  }

  return {
    channel,
    name: 'http',
    async send(request: SendRequest): Promise<SendResult> {
      const to = recipientAddress(channel, request);
      const body = renderTemplate(template, (key) => lookup(key, to, request));
      let response: Response;
      let text: string;
      try {
        response = await doFetch(url, {
          method: 'POST',
          headers: { ...headers, 'idempotency-key': request.deliveryId },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await response.text();
      } catch (err) {
        const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
        const reason = timedOut ? `timed out after ${timeoutMs}ms` : `failed: ${describe(err)}`;
        throw new TransientDeliveryError(`http ${channel}: request to ${new URL(url).host} ${reason}`, { cause: err });
      }
      const status = response.status;
      if (status >= 200 && status < 300) return { providerMessageId: messageIdFrom(text), detail: { status } };
      const message = `http ${channel}: gateway answered ${status}: ${excerpt(text)}`;
      if (status === 408 || status === 429 || status >= 500) throw new TransientDeliveryError(message);
      throw new PermanentDeliveryError(message);
    },
  };
}

/**
 * Korean mobile numbers as the gateways expect them, `010` and eight digits. Accepts spaces and
 * dashes and the +82 international form; anything else is a typo no retry will fix.
 */
export function normalizeKoreanMobile(phone: string): string {
  const compact = phone.replace(/[\s-]/g, '');
  const domestic = compact.startsWith('+82') ? `0${compact.slice(3)}` : compact;
  if (!/^010\d{8}$/.test(domestic)) {
    throw new PermanentDeliveryError(`invalid phone ${JSON.stringify(phone)}: expected a Korean mobile number like 010-1234-5678 or +82 10-1234-5678`);
  }
  return domestic;
}

function recipientAddress(channel: 'sms' | 'kakao', { recipient }: SendRequest): string {
  if (channel === 'kakao' && recipient.kakaoId) return recipient.kakaoId;
  if (!recipient.phone) {
    throw new PermanentDeliveryError(channel === 'sms' ? 'sms needs recipient.phone' : 'kakao needs recipient.kakaoId or recipient.phone');
  }
  return normalizeKoreanMobile(recipient.phone);
}

function lookup(key: string, to: string, { deliveryId, event, message }: SendRequest): string {
  switch (key) {
    case 'to': return to;
    case 'title': return message.title;
    case 'body': return message.body;
    case 'deliveryId': return deliveryId;
    case 'event': return event;
  }
  // A missing data key renders empty: templates are shared across events with different data.
  return message.data[key.slice('data.'.length)] ?? '';
}

function renderTemplate(template: string, value: (key: string) => string): string {
  return template.replace(PLACEHOLDER, (_, key: string) => JSON.stringify(value(key)).slice(1, -1));
}

/** Renders with awkward sample values, so a placeholder outside a JSON string fails here. */
function validateTemplate(template: string, channel: string): void {
  for (const [, key] of template.matchAll(PLACEHOLDER)) {
    if (!FIELDS.has(key!) && !/^data\.[\w.-]+$/.test(key!)) {
      throw new Error(`http provider (${channel}): bodyTemplate has unknown placeholder {{${key}}}; use to, title, body, deliveryId, event or data.<key>`);
    }
  }
  try {
    JSON.parse(renderTemplate(template, () => 'sample "value"\n'));
  } catch (err) {
    throw new Error(`http provider (${channel}): bodyTemplate does not render to valid JSON (placeholders belong inside "…"): ${describe(err)}`);
  }
}

function messageIdFrom(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const record = parsed as Record<string, unknown>;
    const id = record.id ?? record.messageId ?? record.message_id;
    return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
  } catch {
    return undefined;
  }
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (!flat) return '(empty body)';
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return err.message + cause;
}

function safeProtocol(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return '';
  }
}
