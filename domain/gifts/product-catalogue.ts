/**
 * The development gift catalogue: what people really send each other on KakaoTalk (coffee,
 * cake for birthdays, chicken, convenience-store vouchers), at 2026 prices in won. Ids are
 * stable so `deligo seed` can be repeated. Validity is 30 days unless the product says otherwise
 * (seed 004: 상품별 상이): a cake is fresh for a few days, a voucher lasts a year.
 */
export interface GiftProduct {
  id: string;
  brand: string;
  name: string;
  category: 'coffee' | 'bakery' | 'chicken' | 'voucher' | 'dessert' | 'beauty';
  price: number;
  validityDays: number;
}

const p = (id: string, brand: string, name: string, category: GiftProduct['category'], price: number, validityDays = 30): GiftProduct => ({ id, brand, name, category, price, validityDays });

export const GIFT_PRODUCTS: readonly GiftProduct[] = [
  p('gp-starbucks-americano-t', '스타벅스', '아메리카노 Tall', 'coffee', 4_700),
  p('gp-starbucks-latte-t', '스타벅스', '카페 라떼 Tall', 'coffee', 5_200),
  p('gp-starbucks-cake-set', '스타벅스', '부드러운 생크림 카스텔라 + 아메리카노 T 2잔', 'coffee', 15_900),
  p('gp-twosome-strawberry-cake', '투썸플레이스', '스트로베리 초콜릿 생크림 케이크', 'bakery', 36_000, 14),
  p('gp-twosome-americano-2', '투썸플레이스', '아메리카노 R 2잔', 'coffee', 9_800),
  p('gp-ediya-americano', '이디야커피', '아메리카노 (R)', 'coffee', 3_200),
  p('gp-mega-americano', '메가MGC커피', '(ICE) 아메리카노', 'coffee', 2_000),
  p('gp-parisbaguette-cake', '파리바게뜨', '마이넘버원 생크림 케이크', 'bakery', 29_000, 14),
  p('gp-touslesjours-voucher', '뚜레쥬르', '모바일 금액권 1만원', 'voucher', 10_000, 366),
  p('gp-br-pint', '배스킨라빈스', '파인트 아이스크림', 'dessert', 9_800),
  p('gp-br-family', '배스킨라빈스', '패밀리 아이스크림', 'dessert', 26_000),
  p('gp-kyochon-honey', '교촌치킨', '허니콤보 + 콜라 1.25L', 'chicken', 25_000),
  p('gp-bbq-golden', 'BBQ', '황금올리브치킨 + 콜라 1.25L', 'chicken', 25_500),
  p('gp-bhc-bburinkle', 'bhc', '뿌링클 + 콜라 1.25L', 'chicken', 23_500),
  p('gp-cu-voucher-5000', 'CU', '모바일 상품권 5천원', 'voucher', 5_000, 366),
  p('gp-gs25-voucher-10000', 'GS25', '모바일 상품권 1만원', 'voucher', 10_000, 366),
  p('gp-oliveyoung-30000', '올리브영', '기프트카드 3만원', 'beauty', 30_000, 366),
  p('gp-sulbing-injeolmi', '설빙', '인절미 설빙', 'dessert', 11_900),
  p('gp-gongcha-milktea', '공차', '블랙 밀크티 + 펄 (L)', 'coffee', 5_300),
  p('gp-dunkin-box', '던킨', '도넛 하프더즌', 'dessert', 10_800, 7),
];
