/**
 * The contract every notification channel implements. A provider sends one rendered message to
 * one recipient and says, by the error it throws, whether trying again could help.
 */
export const CHANNELS = ['push', 'sms', 'email', 'kakao'] as const;

export type Channel = (typeof CHANNELS)[number];

/** Who receives a notification. Each channel needs its own address: push a user, SMS a phone, … */
export interface Recipient {
  /** deligo user id; push goes to this user's registered devices. */
  userId?: string;
  /** E.164 or Korean domestic format, e.g. 010-1234-5678. */
  phone?: string;
  email?: string;
  /** KakaoTalk user key; KakaoTalk falls back to `phone` when absent. */
  kakaoId?: string;
  /** Display name, for greetings. */
  name?: string;
}

/** Text in Korean plus a flat data payload for apps (FCM data values must be strings). */
export interface RenderedMessage {
  title: string;
  body: string;
  data: Record<string, string>;
}

export interface SendRequest {
  /**
   * Stable id of this (event, recipient, channel) delivery. Providers that support it pass it on
   * as an idempotency key, so a retry after a crash mid-send is not a second message.
   */
  deliveryId: string;
  event: string;
  recipient: Recipient;
  message: RenderedMessage;
}

export interface SendResult {
  /** The provider's own id for the message, when it gives one. */
  providerMessageId?: string;
  /** Anything worth keeping with the delivery record (e.g. devices reached). */
  detail?: Record<string, unknown>;
}

export interface NotificationProvider {
  readonly channel: Channel;
  /** Short name for logs and records: `dev`, `fcm`, `smtp`, `http`. */
  readonly name: string;
  send(request: SendRequest): Promise<SendResult>;
  /** Releases connections; called once at shutdown. */
  close?(): Promise<void>;
}

/** Retrying cannot help: invalid address, no device, a 4xx from the provider. Fails the job at once. */
export class PermanentDeliveryError extends Error {
  override name = 'PermanentDeliveryError';
}

/** Worth another attempt with backoff: timeouts, 5xx, 429, provider unavailable. */
export class TransientDeliveryError extends Error {
  override name = 'TransientDeliveryError';
}
