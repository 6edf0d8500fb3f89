import { createHash, randomUUID } from 'node:crypto';
import type { Agent } from 'node:https';
import { cert, deleteApp, initializeApp, type Credential } from 'firebase-admin/app';
import { getMessaging, type BatchResponse, type Message } from 'firebase-admin/messaging';
import type { Logger } from '../../runtime/logger.ts';
import {
  PermanentDeliveryError,
  TransientDeliveryError,
  type NotificationProvider,
  type SendRequest,
  type SendResult,
} from '../provider.ts';

/** Where push tokens live; the Postgres version wraps `db/devices-repository.ts`. */
export interface DeviceDirectory {
  /** The user's registered tokens, most recently used first. */
  tokensFor(userId: string): Promise<string[]>;
  /** Forgets tokens FCM reported as unregistered or invalid. */
  remove(tokens: string[]): Promise<void>;
}

/** How the provider authenticates to FCM; exactly one form. */
export type FcmCredentials =
  /** The JSON text of a service account key (env FCM_SERVICE_ACCOUNT_JSON). */
  | { serviceAccountJson: string }
  /** Path to a service account key file (GOOGLE_APPLICATION_CREDENTIALS). */
  | { credentialsFile: string }
  /** A ready firebase-admin credential, e.g. a fake in tests. */
  | { credential: Credential };

export interface FcmProviderOptions {
  credentials: FcmCredentials;
  devices: DeviceDirectory;
  logger: Logger;
  /** FCM project; default: the service account's `project_id`. Required with `{ credential }`. */
  projectId?: string;
  /** Agent for token and send requests (proxies, tests); default: Node's global agent. */
  httpAgent?: Agent;
}

/** FCM's v1 API accepts at most 500 messages per sendEach call. */
const MAX_DEVICES = 500;

/** Error codes meaning the token itself is dead: drop it, and retrying that device cannot help. */
const DEAD_TOKEN_CODES = new Set(['messaging/registration-token-not-registered', 'messaging/invalid-registration-token']);

/** Codes meaning our setup is wrong (key, project, APNs cert): fixable, so retry, but shout. */
const CONFIG_CODES = new Set([
  'app/invalid-credential',
  'messaging/authentication-error',
  'messaging/mismatched-credential',
  'messaging/third-party-auth-error',
]);

/** Push notifications to a user's devices through Firebase Cloud Messaging. */
export function createFcmProvider(options: FcmProviderOptions): NotificationProvider {
  if (!options.devices) throw new Error('FCM provider requires a device directory');
  const log = options.logger.child({ provider: 'fcm' });
  const app = initializeApp(
    { credential: toCredential(options.credentials, options.httpAgent), projectId: options.projectId, httpAgent: options.httpAgent },
    // Named, so several providers (tests, a reload) never collide on firebase-admin's default app.
    `deligo-${randomUUID()}`,
  );
  const messaging = getMessaging(app);
  // sendEach defaults to an HTTP/2 session opened straight to fcm.googleapis.com, which ignores
  // `httpAgent`, so proxies and local stand-ins would be bypassed. The HTTP/1.1 transport sends
  // each request through the app's agent like every other firebase-admin call.
  messaging.enableLegacyHttpTransport();

  async function send(request: SendRequest): Promise<SendResult> {
    const { userId } = request.recipient;
    if (!userId) throw new PermanentDeliveryError('push needs recipient.userId');
    const tokens = [...new Set(await options.devices.tokensFor(userId))].slice(0, MAX_DEVICES);
    if (tokens.length === 0) throw new PermanentDeliveryError('no registered device');

    const messages = tokens.map((token) => toMessage(token, request));
    let batch: BatchResponse;
    try {
      batch = await messaging.sendEach(messages);
    } catch (err) {
      // Whole-batch failures are setup problems (e.g. no project id), not the recipient's.
      log.error({ err, deliveryId: request.deliveryId }, 'fcm sendEach failed');
      throw new TransientDeliveryError(`fcm send failed: ${errorText(err)}`);
    }

    const dead: string[] = [];
    const otherFailures: { code: string; message: string }[] = [];
    let messageId: string | undefined;
    batch.responses.forEach((response, i) => {
      if (response.success) {
        messageId ??= response.messageId;
        return;
      }
      const code = response.error?.code ?? 'unknown';
      const message = response.error?.message ?? '';
      if (isDeadToken(code, message)) dead.push(tokens[i]!);
      else otherFailures.push({ code, message });
    });

    const removed = await removeDead(dead);
    const ctx = { deliveryId: request.deliveryId, userId, devices: tokens.length, delivered: batch.successCount, removed };
    for (const failure of otherFailures) {
      const level = CONFIG_CODES.has(failure.code) ? 'error' : 'warn';
      log[level]({ ...ctx, code: failure.code, reason: failure.message }, 'fcm device send failed');
    }

    if (batch.successCount > 0) {
      return { providerMessageId: messageId, detail: { devices: tokens.length, delivered: batch.successCount, removed } };
    }
    if (otherFailures.length === 0) {
      throw new PermanentDeliveryError(`no valid device: ${dead.length} token(s) unregistered or invalid and removed`);
    }
    const codes = [...new Set(otherFailures.map((f) => f.code))].join(', ');
    throw new TransientDeliveryError(`fcm delivered to none of ${tokens.length} device(s): ${codes}`);
  }

  /** A failed clean-up must not fail a send that reached a device: the job would resend it. */
  async function removeDead(tokens: string[]): Promise<number> {
    if (tokens.length === 0) return 0;
    try {
      await options.devices.remove(tokens);
      log.info({ count: tokens.length }, 'removed dead push tokens');
      return tokens.length;
    } catch (err) {
      log.warn({ err, count: tokens.length }, 'could not remove dead push tokens');
      return 0;
    }
  }

  return {
    channel: 'push',
    name: 'fcm',
    send,
    close: () => deleteApp(app),
  };
}

function toCredential(credentials: FcmCredentials, httpAgent: Agent | undefined): Credential {
  if ('credential' in credentials) return credentials.credential;
  if ('credentialsFile' in credentials) return cert(credentials.credentialsFile, httpAgent);
  let json: unknown;
  try {
    json = JSON.parse(credentials.serviceAccountJson);
  } catch {
    // Never echo the text: it holds a private key.
    throw new Error('FCM service account JSON is not valid JSON');
  }
  return cert(json as object, httpAgent);
}

function toMessage(token: string, request: SendRequest): Message {
  const { title, body, data } = request.message;
  // FCM has no idempotency key. Collapsing on the delivery id makes a resend after a crash
  // replace the first notification on the phone instead of showing it twice.
  const collapseId = createHash('sha256').update(request.deliveryId).digest('hex').slice(0, 32);
  return {
    token,
    notification: { title, body },
    data,
    // Order and rider updates are time-critical: wake the device, don't batch in Doze.
    android: { priority: 'high', notification: { tag: collapseId, sound: 'default' } },
    apns: {
      headers: { 'apns-priority': '10', 'apns-push-type': 'alert', 'apns-collapse-id': collapseId },
      payload: { aps: { sound: 'default' } },
    },
  };
}

/**
 * FCM v1 reports a malformed token as a plain INVALID_ARGUMENT (→ `messaging/invalid-argument`),
 * the same code as a bad payload, so only the message tells them apart.
 */
function isDeadToken(code: string, message: string): boolean {
  if (DEAD_TOKEN_CODES.has(code)) return true;
  return code === 'messaging/invalid-argument' && /registration token/i.test(message);
}

function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return err && typeof err === 'object' && 'code' in err ? `${String(err.code)}: ${message}` : message;
}
