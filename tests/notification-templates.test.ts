import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deliveryId, recipientKey } from '../domain/notifications/addressing.ts';
import { NOTIFICATION_EVENTS, type EventData, type NotificationEvent } from '../domain/notifications/events.ts';
import { render, TEMPLATES } from '../domain/notifications/templates.ts';

/** Realistic data for every event. A new event without an entry here fails the first test. */
const SAMPLES: { [E in NotificationEvent]: EventData<E> } = {
  'order.placed': { orderId: 'o-1', restaurantName: '교촌치킨 강남점' },
  'order.cooking': { orderId: 'o-1', restaurantName: '교촌치킨 강남점', cookMinutes: 20 },
  'order.ready_for_pickup': { orderId: 'o-1', restaurantName: '교촌치킨 강남점' },
  'order.picked_up': { orderId: 'o-1', etaMinutes: 12 },
  'order.delivering': { orderId: 'o-1', etaMinutes: 9 },
  'order.delivered': { orderId: 'o-1' },
  'order.cancelled': { orderId: 'o-1', reason: '고객 요청' },
  'order.rejected': { orderId: 'o-1', restaurantName: '교촌치킨 강남점', reason: '재료 소진' },
  'rider.arriving': { orderId: 'o-1', distanceMeters: 95 },
  'order.no_rider': { orderId: 'o-1' },
  'restaurant.rider_arrived': { orderId: 'o-1' },
  'restaurant.new_order': { orderId: 'o-1', itemCount: 3, total: 32_000 },
  'dispatch.offer': { offerId: 'of-1', orderId: 'o-1', restaurantName: '교촌치킨 강남점', distanceMeters: 1_250, expectedEarning: 4_500, expiresInSeconds: 15 },
  'dispatch.offer_withdrawn': { offerId: 'of-1', orderId: 'o-1' },
  'pickup.ready': { orderId: 'o-1', restaurantName: '교촌치킨 강남점' },
  'group.matched': { groupOrderId: 'grp_1', orderId: 'ord_1', restaurantName: '교촌치킨 강남점', share: 12_501 },
  'group.expired': { groupOrderId: 'grp_1', restaurantName: '교촌치킨 강남점', refunded: 12_501 },
  'gift.reserved': { giftId: 'g-1', productName: '스타벅스 아메리카노 T', recipientName: '김민지', sendAt: '2026-12-25 00:00 (Asia/Seoul)' },
  'gift.sent': { giftId: 'g-1', productName: '스타벅스 아메리카노 T', recipientName: '김민지' },
  'gift.received': { giftId: 'g-1', productName: '스타벅스 아메리카노 T', senderName: '이준호', link: 'https://deligo.local/g/abc', validUntil: '2027-01-24' },
  'gift.expiring': { giftId: 'g-1', productName: '스타벅스 아메리카노 T', daysLeft: 3, validUntil: '2027-01-24', link: 'https://deligo.local/g/abc' },
  'gift.opened': { giftId: 'g-1', productName: '스타벅스 아메리카노 T', recipientName: '김민지' },
  'gift.cancelled': { giftId: 'g-1', productName: '스타벅스 아메리카노 T', recipientName: '김민지', refunded: 4_700 },
  'gift.failed': { giftId: 'g-1', productName: '스타벅스 아메리카노 T', recipientName: '김민지', refunded: 4_700 },
  'gift.expired': { giftId: 'g-1', productName: '스타벅스 아메리카노 T', recipientName: '김민지', refunded: 4_700 },
  'ops.fraud_alert': { alertId: 'fa-1', riderId: 'r-7', rule: 'impossible-speed', detail: '5.2km in 1s' },
  'ops.dispatch_failed': { orderId: 'o-1', attempts: 5, reason: 'no rider within 5km' },
};

describe('notification templates', () => {
  it('every event has a template and sample data', () => {
    assert.deepEqual(Object.keys(TEMPLATES).sort(), [...NOTIFICATION_EVENTS].sort());
    assert.deepEqual(Object.keys(SAMPLES).sort(), [...NOTIFICATION_EVENTS].sort());
  });

  for (const event of NOTIFICATION_EVENTS) {
    it(`${event} renders Korean text and a string-only data payload`, () => {
      const message = render(event, SAMPLES[event]);
      assert.ok(message.title.length > 0 && message.body.length > 0);
      assert.match(message.title + message.body, /[가-힣]/, 'Korean text');
      assert.ok(!/undefined|NaN|\[object/.test(message.body), message.body);
      assert.equal(message.data.event, event);
      assert.ok(Object.values(message.data).every((v) => typeof v === 'string'));
    });
  }

  it('status changes use the order states customers know', () => {
    const titles = (['order.placed', 'order.cooking', 'order.ready_for_pickup', 'order.picked_up', 'order.delivering', 'order.delivered'] as const).map(
      (e) => render(e, SAMPLES[e]).title,
    );
    assert.deepEqual(titles, ['주문접수', '조리중', '픽업대기', '픽업완료', '배달중', '배달완료']);
  });

  it('an offer shows distance and expected earning', () => {
    const { body } = render('dispatch.offer', SAMPLES['dispatch.offer']);
    assert.match(body, /1\.3km/);
    assert.match(body, /4,500원/);
  });

  it('wrong data is refused, naming the field', () => {
    assert.throws(() => render('order.cooking', { orderId: 'o-1', restaurantName: 'x' }), /cookMinutes/);
  });

  it('addresses and delivery ids are stable per channel', () => {
    const recipient = { userId: 'c-1', phone: '010-1234-5678', email: 'Min@Example.com' };
    assert.equal(recipientKey('push', recipient), 'user:c-1');
    assert.equal(recipientKey('sms', recipient), 'phone:01012345678');
    assert.equal(recipientKey('email', recipient), 'email:min@example.com');
    assert.equal(recipientKey('kakao', recipient), 'phone:01012345678', 'KakaoTalk falls back to the phone number');
    assert.equal(recipientKey('email', { userId: 'c-1' }), undefined);
    const a = deliveryId('order:1:COOKING', 'order.cooking', 'user:c-1', 'push');
    assert.equal(a, deliveryId('order:1:COOKING', 'order.cooking', 'user:c-1', 'push'));
    assert.notEqual(a, deliveryId('order:1:COOKING', 'order.cooking', 'user:c-1', 'sms'));
    assert.match(a, /^[0-9a-f]{32}$/);
  });
});
