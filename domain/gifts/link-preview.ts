/**
 * Who fetches a gift link without being its recipient. When a link is pasted into a chat, the
 * chat's servers fetch it to draw a preview card (KakaoTalk's `kakaotalk-scrap`, Slackbot,
 * facebookexternalhit, Twitterbot, …); browsers prefetch links they expect to be followed; some
 * clients probe with HEAD. None of these is the recipient opening the gift, so none may mark it
 * OPENED or tell the sender it was received.
 *
 * Only scrapers are matched by name: the KakaoTalk and LINE in-app browsers (`KAKAOTALK`,
 * `Line/`) are real people and open the gift.
 */
const PREVIEW_AGENTS =
  /kakaotalk-scrap|slackbot|slack-imgproxy|facebookexternalhit|facebot|twitterbot|linkedinbot|discordbot|telegrambot|whatsapp|skypeuripreview|applebot|googlebot|bingbot|yeti\/|daum(?:oa)?\/|daumoa|redditbot|embedly|pinterest|vkshare|iframely|mastodon|bytespider|headlesschrome|\b(?:bot|crawler|spider|preview)\b/i;

export interface LinkRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
}

const header = (headers: LinkRequest['headers'], name: string) => {
  const value = headers[name];
  return (Array.isArray(value) ? value.join(',') : (value ?? '')).toLowerCase();
};

/** True when the request is a preview, a prefetch or a probe rather than a person opening the link. */
export function isLinkPreview(request: LinkRequest): boolean {
  if (request.method.toUpperCase() === 'HEAD') return true;
  if (PREVIEW_AGENTS.test(header(request.headers, 'user-agent'))) return true;
  // Chrome: Sec-Purpose "prefetch" (or "prefetch;prerender"); older: Purpose; Safari: X-Purpose "preview"; Firefox: X-Moz.
  const purpose = ['sec-purpose', 'purpose', 'x-purpose', 'x-moz'].map((h) => header(request.headers, h)).join(' ');
  return /prefetch|preview|prerender/.test(purpose);
}
