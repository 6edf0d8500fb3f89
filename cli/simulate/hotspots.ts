import type { LatLng } from '../../domain/location/geo.ts';
import { GANGNAM_STATION } from '../../domain/catalogue/seed-data.ts';

/** Where `--hotspot` can concentrate riders and orders: the seeded catalogue's neighbourhoods. */
export const HOTSPOTS: Readonly<Record<string, LatLng>> = {
  gangnam: GANGNAM_STATION,
  hongdae: { lat: 37.5563, lng: 126.9236 },
  jamsil: { lat: 37.5133, lng: 127.1001 },
  jongno: { lat: 37.5704, lng: 126.9921 },
  yeouido: { lat: 37.5219, lng: 126.9245 },
  seongsu: { lat: 37.5446, lng: 127.0557 },
};

/** Seoul, roughly in the middle of the seeded restaurants: where a run without a hot spot looks. */
export const SEOUL_CENTRE: LatLng = { lat: 37.5326, lng: 127.0246 };
/** Share of riders and orders placed in the hot spot; the rest spread over the city. */
export const HOTSPOT_SHARE = 0.8;
/** The hot spot's radius, metres. */
export const HOTSPOT_RADIUS = 1_500;
