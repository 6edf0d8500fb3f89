/**
 * The development catalogue for Seoul: restaurants around six neighbourhoods, with menus and
 * prices in won. Generated from the compact tables below by a seeded PRNG, so every run yields
 * the same ids, positions and prices and `deligo seed` can be repeated safely.
 */
import type { LatLng } from '../location/geo.ts';
import type { Catalogue, CatalogueMenuItem, CatalogueRestaurant, Category } from './catalogue.ts';
import { seededRandom } from '../random.ts';

/** 강남역 exit 10/11: the hot spot of seed 000, and the centre of the densest cluster. */
export const GANGNAM_STATION: LatLng = { lat: 37.4979, lng: 127.0276 };

interface Area {
  key: string;
  centre: LatLng;
  count: number;
  /** Restaurants are spread uniformly over a disc of this radius. */
  radiusMeters: number;
  label(offset: { north: number; east: number }): string;
  district(offset: { north: number; east: number }): { gu: string; streets: readonly string[] };
}

const fixed = (label: string, gu: string, streets: readonly string[]) => ({ label: () => label, district: () => ({ gu, streets }) });

const AREAS: readonly Area[] = [
  {
    key: 'gangnam',
    centre: GANGNAM_STATION,
    count: 44,
    // Under 1 km, so every one of them is "near 강남역" by any measure.
    radiusMeters: 950,
    // 역삼 lies east along 테헤란로, 신논현 north along 강남대로.
    label: ({ north, east }) => (east > 350 && east > Math.abs(north) ? '역삼' : north > 350 ? '신논현' : '강남'),
    // 강남대로 is the border: 서초구 to the west, 강남구 to the east.
    district: ({ east }) =>
      east < 0 ? { gu: '서초구', streets: ['서초대로', '강남대로', '서운로', '사임당로'] } : { gu: '강남구', streets: ['테헤란로', '강남대로', '역삼로', '봉은사로', '논현로'] },
  },
  { key: 'hongdae', centre: { lat: 37.5563, lng: 126.9236 }, count: 16, radiusMeters: 1_500, ...fixed('홍대', '마포구', ['와우산로', '어울마당로', '양화로', '홍익로', '잔다리로']) },
  { key: 'jamsil', centre: { lat: 37.5133, lng: 127.1001 }, count: 15, radiusMeters: 1_500, ...fixed('잠실', '송파구', ['올림픽로', '백제고분로', '송파대로', '석촌호수로']) },
  { key: 'jongno', centre: { lat: 37.5704, lng: 126.9921 }, count: 15, radiusMeters: 1_500, ...fixed('종로', '종로구', ['종로', '인사동길', '삼일대로', '율곡로', '돈화문로']) },
  { key: 'yeouido', centre: { lat: 37.5219, lng: 126.9245 }, count: 15, radiusMeters: 1_500, ...fixed('여의도', '영등포구', ['여의대로', '국제금융로', '의사당대로', '여의나루로']) },
  { key: 'seongsu', centre: { lat: 37.5446, lng: 127.0557 }, count: 15, radiusMeters: 1_500, ...fixed('성수', '성동구', ['성수이로', '아차산로', '연무장길', '서울숲길']) },
];

/** How often each category turns up: chicken and Korean food dominate delivery in Seoul. */
const CATEGORY_DECK: readonly Category[] = [
  'chicken', 'korean', 'bunsik', 'chinese', 'pizza', 'cafe', 'japanese', 'chicken', 'burger', 'korean',
  'jokbal', 'bunsik', 'chicken', 'chinese', 'cafe', 'korean', 'pizza', 'japanese',
];

const BRANDS: Record<Category, readonly string[]> = {
  chicken: ['교촌치킨', 'BBQ치킨', '굽네치킨', '네네치킨', '처갓집양념치킨', '호식이두마리치킨', 'bhc치킨', '페리카나', '멕시카나'],
  korean: ['백채김치찌개', '본죽&비빔밥', '놀부부대찌개', '명동할머니순두부', '원조감자탕', '이화수육개장', '한촌설렁탕', '엄마손백반'],
  bunsik: ['김밥천국', '엽기떡볶이', '신전떡볶이', '죠스떡볶이', '고봉민김밥', '청년다방', '국대떡볶이', '바르다김선생'],
  chinese: ['홍콩반점0410', '만리장성', '북경반점', '취천루', '보배반점', '진진', '태화루'],
  pizza: ['도미노피자', '피자헛', '파파존스', '피자스쿨', '피자마루', '미스터피자', '7번가피자'],
  cafe: ['메가MGC커피', '컴포즈커피', '빽다방', '투썸플레이스', '이디야커피', '할리스', '폴바셋'],
  japanese: ['미소야', '아비꼬', '스시메이진', '규카츠정', '사보텐', '하나우동', '멘야하나비'],
  burger: ['맘스터치', '롯데리아', '버거킹', '프랭크버거', '노브랜드버거', 'KFC'],
  jokbal: ['족발야시장', '원할머니보쌈족발', '가장맛있는족발', '장충동왕족발', '오향족발'],
};

/** [name, usual price in won, description?]. The first dish is the signature: always on the menu. */
type Dish = readonly [string, number, string?];

const MENUS: Record<Category, readonly Dish[]> = {
  chicken: [['후라이드치킨', 19_000, '바삭한 한 마리'], ['양념치킨', 20_000], ['반반치킨', 20_000, '후라이드 반 + 양념 반'], ['간장치킨', 21_000], ['순살치킨', 21_000], ['파닭', 22_000], ['치즈볼 5알', 5_000], ['감자튀김', 4_000], ['치킨무 추가', 500], ['콜라 1.25L', 2_500], ['닭똥집튀김', 12_000], ['치즈스노윙치킨', 22_000]],
  korean: [['김치찌개', 9_000, '국내산 돼지고기와 묵은지'], ['된장찌개', 9_000], ['제육볶음', 10_000], ['순두부찌개', 9_000], ['비빔밥', 9_500], ['불고기 정식', 12_000], ['갈비탕', 13_000], ['육개장', 11_000], ['부대찌개 2인', 19_000], ['계란말이', 8_000], ['공기밥', 1_000], ['김치전', 10_000]],
  bunsik: [['떡볶이', 4_500, '국물 자작한 밀떡'], ['순대', 4_500], ['모둠튀김', 4_000], ['김밥', 3_500], ['참치김밥', 4_500], ['치즈김밥', 4_500], ['라볶이', 5_500], ['쫄면', 6_500], ['라면', 4_000], ['어묵탕', 3_000], ['로제떡볶이', 6_500], ['돈까스', 8_000]],
  chinese: [['짜장면', 7_000], ['짬뽕', 8_500, '해산물 듬뿍'], ['간짜장', 8_000], ['볶음밥', 8_500], ['탕수육 (소)', 16_000], ['군만두', 6_000], ['마파두부밥', 9_500], ['잡채밥', 9_000], ['유산슬밥', 11_000], ['깐풍기', 22_000], ['울면', 8_500], ['고추잡채 + 꽃빵', 20_000]],
  pizza: [['페퍼로니 피자 L', 23_900], ['콤비네이션 피자 L', 24_900], ['불고기 피자 L', 25_900], ['포테이토 피자 L', 25_900], ['고구마 피자 L', 26_900], ['쉬림프 피자 L', 28_900], ['치즈 오븐 스파게티', 8_900], ['치즈 스틱', 5_900], ['버팔로 윙 6조각', 7_900], ['갈릭 디핑소스', 500], ['콜라 1.25L', 2_500], ['콘 샐러드', 3_900]],
  cafe: [['아메리카노', 4_000], ['카페라테', 4_500], ['바닐라라테', 5_000], ['콜드브루', 5_000], ['딸기 스무디', 6_000], ['복숭아 아이스티', 4_000], ['크로플', 5_500], ['치즈케이크', 6_500], ['티라미수', 6_800], ['햄치즈 샌드위치', 7_500], ['초코 쿠키', 3_000], ['자몽에이드', 5_500]],
  japanese: [['로스카츠', 11_000, '두툼한 등심'], ['치즈카츠', 12_500], ['모둠초밥 12pcs', 15_000], ['연어초밥 10pcs', 16_000], ['사케동', 13_500], ['규동', 9_500], ['냉우동', 8_000], ['카레우동', 9_000], ['가라아게', 8_000], ['새우튀김 3pcs', 7_000], ['미소시루', 2_000], ['돈코츠라멘', 10_000]],
  burger: [['불고기버거 세트', 8_900], ['치즈버거 세트', 8_500], ['새우버거 세트', 8_900], ['더블패티버거 세트', 10_900], ['치킨버거 세트', 8_700], ['베이컨버거 단품', 7_500], ['감자튀김', 2_500], ['치즈스틱', 2_500], ['어니언링', 3_000], ['너겟 4조각', 3_000], ['콜라 M', 2_000], ['소프트콘', 1_500]],
  jokbal: [['족발 (중)', 35_000, '앞다리 살코기, 쌈채소 포함'], ['족발 (대)', 42_000], ['보쌈 (중)', 33_000], ['반반 족발보쌈', 45_000], ['불족발', 38_000], ['냉채족발', 39_000], ['막국수', 8_000], ['주먹밥', 4_000], ['순대국', 9_000], ['부추전', 12_000], ['계란찜', 5_000], ['콜라 1.25L', 2_500]],
};

const PREP_MINUTES: Record<Category, number> = { cafe: 10, bunsik: 12, burger: 12, korean: 15, chinese: 15, japanese: 18, chicken: 20, jokbal: 20, pizza: 22 };

const SEED = 0x5eed_2026;
const METERS_PER_DEGREE = 111_195; // one degree of latitude on the mean Earth sphere

/** Builds the whole catalogue; the same every time it is called. */
export function buildCatalogue(): Catalogue {
  const random = seededRandom(SEED);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const restaurants: CatalogueRestaurant[] = [];
  const items: CatalogueMenuItem[] = [];
  const names = new Set<string>();

  AREAS.forEach((area, areaIndex) => {
    const brandUse = new Map<Category, number>();
    for (let n = 1; n <= area.count; n++) {
      const category = CATEGORY_DECK[(n - 1 + areaIndex * 5) % CATEGORY_DECK.length]!;
      const used = brandUse.get(category) ?? 0;
      brandUse.set(category, used + 1);
      const brands = BRANDS[category];
      // sqrt keeps the density even over the disc instead of piling up at the centre.
      const distance = area.radiusMeters * Math.sqrt(random());
      const bearing = random() * 2 * Math.PI;
      const offset = { north: distance * Math.cos(bearing), east: distance * Math.sin(bearing) };
      const lat = area.centre.lat + offset.north / METERS_PER_DEGREE;
      const lng = area.centre.lng + offset.east / (METERS_PER_DEGREE * Math.cos((area.centre.lat * Math.PI) / 180));
      let name = `${area.label(offset)} ${brands[used % brands.length]}`;
      if (names.has(name)) name += ` ${Math.floor(used / brands.length) + 2}호점`;
      names.add(name);
      const { gu, streets } = area.district(offset);
      const id = `rest-${area.key}-${String(n).padStart(3, '0')}`;
      restaurants.push({
        id,
        name,
        category,
        lat: round6(lat),
        lng: round6(lng),
        address: `서울 ${gu} ${pick(streets)} ${int(1, 480)}`,
        minOrder: int(12, 18) * 1_000,
        deliveryTip: int(2, 8) * 500,
        prepMinutes: Math.min(30, PREP_MINUTES[category] + int(0, 8)),
        open: true,
      });
      items.push(...menuFor(id, category, random));
    }
  });
  return { restaurants, items };
}

/** 5 to 12 dishes of the category, prices nudged per restaurant, an occasional one sold out. */
function menuFor(restaurantId: string, category: Category, random: () => number): CatalogueMenuItem[] {
  const dishes = MENUS[category];
  const count = 5 + Math.floor(random() * (Math.min(12, dishes.length) - 4));
  const rest = dishes.map((_, i) => i).slice(1);
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
  }
  const chosen = [0, ...rest.slice(0, count - 1).sort((a, b) => a - b)];
  return chosen.map((dishIndex, position) => {
    const [name, price, description] = dishes[dishIndex]!;
    // Cheap sides keep their price; dishes vary by up to ±1,000 won between restaurants.
    const nudge = price >= 5_000 ? (Math.floor(random() * 5) - 2) * 500 : 0;
    return {
      id: `${restaurantId}-m${String(dishIndex + 1).padStart(2, '0')}`,
      restaurantId,
      name,
      description: description ?? null,
      price: price + nudge,
      // The signature dish is never sold out, so a fixture order can always use the first item.
      available: position === 0 || random() >= 0.06,
      sort: position + 1,
    };
  });
}

const round6 = (degrees: number) => Math.round(degrees * 1e6) / 1e6;
