import type { presentForHolder } from './present.ts';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STATUS_TEXT: Record<string, string> = {
  SENDING: '사용 가능',
  SENT: '사용 가능',
  OPENED: '사용 가능',
  USED: '사용 완료',
  EXPIRED_REFUNDED: '기간 만료',
  CANCELLED: '취소됨',
  FAILED_REFUNDED: '발송 실패',
};

/**
 * The small page a recipient sees from the message link. Everything the sender typed is escaped;
 * the page loads nothing from elsewhere and runs no script.
 */
export function holderPage(view: ReturnType<typeof presentForHolder>): string {
  const won = `${view.product.price.toLocaleString('ko-KR')}원`;
  return `<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escape(view.from)}님의 선물</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#222}
.card{border:1px solid #ddd;border-radius:12px;padding:1.25rem}.code{font:600 1.3rem ui-monospace,monospace;letter-spacing:.05em}
.msg{white-space:pre-wrap;background:#fef9e7;border-radius:8px;padding:.75rem}.muted{color:#777}</style></head>
<body><div class="card">
<p class="muted">${escape(view.from)}님이 ${escape(view.to)}님께 보낸 선물</p>
<h1>${escape(view.product.name)}</h1>
<p>${won} · <strong data-status="${escape(view.status)}">${STATUS_TEXT[view.status] ?? escape(view.status)}</strong></p>
${view.message ? `<p class="msg">${escape(view.message)}</p>` : ''}
${view.code ? `<p>기프티콘 번호</p><p class="code">${escape(view.code)}</p>` : ''}
${view.validUntil ? `<p class="muted">유효기간: ${escape(view.validUntil)}까지</p>` : ''}
</div></body></html>`;
}

/**
 * What a link-preview bot gets: enough for a chat's preview card (title and Open Graph tags), and
 * nothing of the gift itself — no code, no message, no status — since the fetch comes from a
 * third party's servers.
 */
export function previewPage(gift: { sender_name: string; product_name: string }): string {
  const title = `${gift.sender_name}님이 선물을 보냈어요`;
  const description = `${gift.product_name} 선물이 도착했어요. 링크를 열어 확인하세요.`;
  return `<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>${escape(title)}</title>
<meta property="og:type" content="website"><meta property="og:site_name" content="deligo 선물하기">
<meta property="og:title" content="${escape(title)}"><meta property="og:description" content="${escape(description)}">
<meta name="twitter:card" content="summary"><meta name="twitter:title" content="${escape(title)}"><meta name="twitter:description" content="${escape(description)}">
</head><body><p>${escape(description)}</p></body></html>`;
}
