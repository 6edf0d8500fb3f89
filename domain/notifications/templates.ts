import { EVENT_DATA, type EventData, type NotificationEvent } from './events.ts';

export interface MessageText {
  title: string;
  body: string;
}

type Templates = { [E in NotificationEvent]: (data: EventData<E>) => MessageText };

const meters = (m: number) => (m >= 1_000 ? `${(m / 1_000).toFixed(1)}km` : `${Math.round(m)}m`);
const wonText = (n: number) => `${n.toLocaleString('ko-KR')}원`;
const because = (reason?: string) => (reason ? ` (사유: ${reason})` : '');

/**
 * Korean text for every event. The mapped type makes a missing template a compile error, and
 * a test renders every event with sample data.
 */
export const TEMPLATES: Templates = {
  'order.placed': (d) => ({ title: '주문접수', body: `${d.restaurantName}에 주문이 접수되었어요.` }),
  'order.cooking': (d) => ({ title: '조리중', body: `${d.restaurantName}에서 조리를 시작했어요. 약 ${d.cookMinutes}분 걸려요.` }),
  'order.ready_for_pickup': (d) => ({ title: '픽업대기', body: `${d.restaurantName}에서 음식이 준비되어 라이더를 기다리고 있어요.` }),
  'order.picked_up': (d) => ({
    title: '픽업완료',
    body: `라이더가 음식을 픽업했어요.${d.etaMinutes !== undefined ? ` 약 ${d.etaMinutes}분 후 도착 예정이에요.` : ''}`,
  }),
  'order.delivering': (d) => ({ title: '배달중', body: `음식이 배달 중이에요. 약 ${d.etaMinutes}분 후 도착 예정이에요.` }),
  'order.delivered': () => ({ title: '배달완료', body: '배달이 완료되었어요. 맛있게 드세요!' }),
  'order.cancelled': (d) => ({ title: '주문취소', body: `주문이 취소되었어요.${because(d.reason)}` }),
  'order.rejected': (d) => ({ title: '주문거절', body: `${d.restaurantName}에서 주문을 받을 수 없어요.${because(d.reason)}` }),
  'rider.arriving': (d) => ({ title: '곧 도착해요', body: `라이더가 ${meters(d.distanceMeters)} 앞에 있어요. 곧 도착합니다!` }),
  'order.no_rider': () => ({ title: '배차 지연', body: '주변에 배달할 수 있는 라이더를 찾지 못했어요. 고객센터에서 곧 안내드릴게요.' }),
  'restaurant.rider_arrived': () => ({ title: '라이더 도착', body: '라이더가 매장 앞에 도착했어요. 음식을 전달해 주세요.' }),
  'restaurant.new_order': (d) => ({ title: '새 주문', body: `새 주문이 들어왔어요: 메뉴 ${d.itemCount}개, ${wonText(d.total)}.` }),
  'dispatch.offer': (d) => ({
    title: '새 배차 요청',
    body: `${d.restaurantName} 픽업, ${meters(d.distanceMeters)} 거리, 예상 수입 ${wonText(d.expectedEarning)}. ${d.expiresInSeconds}초 안에 수락해 주세요.`,
  }),
  'dispatch.offer_withdrawn': () => ({ title: '배차 요청 취소', body: '주문이 취소되어 배차 요청이 철회되었어요. 다음 배차를 기다려 주세요.' }),
  'pickup.ready': (d) => ({ title: '픽업 준비 완료', body: `${d.restaurantName}에서 음식이 준비되었어요. 픽업해 주세요.` }),
  'gift.reserved': (d) => ({ title: '선물 예약 완료', body: `${d.recipientName}님께 ${d.productName} 선물이 ${d.sendAt}에 발송되도록 예약되었어요.` }),
  'gift.sent': (d) => ({ title: '선물 발송 완료', body: `${d.recipientName}님께 ${d.productName} 선물을 보냈어요.` }),
  'gift.received': (d) => ({
    title: '선물이 도착했어요',
    body: `${d.senderName}님이 ${d.productName}을(를) 보냈어요. ${d.validUntil}까지 사용할 수 있어요. ${d.link}`,
  }),
  'gift.expiring': (d) => ({
    title: `선물 유효기간 D-${d.daysLeft}`,
    body: `${d.productName} 선물의 유효기간이 ${d.daysLeft}일 남았어요 (${d.validUntil}까지). ${d.link}`,
  }),
  'gift.opened': (d) => ({ title: '선물 수령 확인', body: `${d.recipientName}님이 ${d.productName} 선물을 확인했어요.` }),
  'gift.cancelled': (d) => ({ title: '선물 예약 취소', body: `${d.recipientName}님께 보낼 ${d.productName} 선물 예약이 취소되고 ${wonText(d.refunded)}이 환불되었어요.` }),
  'gift.failed': (d) => ({ title: '선물 발송 실패', body: `${d.recipientName}님께 ${d.productName} 선물을 보내지 못해 ${wonText(d.refunded)}을 환불했어요.` }),
  'gift.expired': (d) => ({ title: '선물 기간 만료', body: `${d.recipientName}님이 ${d.productName} 선물을 기간 안에 사용하지 않아 ${wonText(d.refunded)}을 환불했어요.` }),
  'group.matched': (d) => ({ title: '공동주문 매칭 완료', body: `${d.restaurantName} 공동주문이 매칭되어 주문이 접수되었어요. 내 부담금은 ${wonText(d.share)}이에요.` }),
  'group.expired': (d) => ({ title: '공동주문 취소', body: `30분 안에 함께할 이웃을 찾지 못해 ${d.restaurantName} 공동주문이 취소되었어요. ${wonText(d.refunded)}을 돌려드렸어요.` }),
  'ops.fraud_alert': (d) => ({ title: `[운영] GPS 이상 감지: ${d.rule}`, body: `라이더 ${d.riderId}: ${d.detail}` }),
  'ops.dispatch_failed': (d) => ({ title: '[운영] 배차 실패', body: `주문 ${d.orderId}: ${d.attempts}회 시도 후 배차 실패 (${d.reason})` }),
};

/** Text plus the flat, string-valued data payload apps receive (FCM requires strings). */
export function render(event: NotificationEvent, data: unknown): MessageText & { data: Record<string, string> } {
  const parsed = EVENT_DATA[event].parse(data) as EventData<typeof event>;
  const text = (TEMPLATES[event] as (d: typeof parsed) => MessageText)(parsed);
  const payload: Record<string, string> = { event };
  for (const [key, value] of Object.entries(parsed)) if (value !== undefined) payload[key] = String(value);
  return { ...text, data: payload };
}
