/**
 * Google's encoded polyline format (precision 1e-5), the compact form routes are archived in and
 * that map libraries draw directly.
 */
export function encodePolyline(points: ReadonlyArray<{ lat: number; lng: number }>): string {
  let out = '';
  let lastLat = 0;
  let lastLng = 0;
  for (const p of points) {
    const lat = Math.round(p.lat * 1e5);
    const lng = Math.round(p.lng * 1e5);
    out += encodeValue(lat - lastLat) + encodeValue(lng - lastLng);
    lastLat = lat;
    lastLng = lng;
  }
  return out;
}

export function decodePolyline(text: string): Array<{ lat: number; lng: number }> {
  const points: Array<{ lat: number; lng: number }> = [];
  let index = 0;
  let lat = 0;
  let lng = 0;
  while (index < text.length) {
    const [dLat, afterLat] = decodeValue(text, index);
    const [dLng, afterLng] = decodeValue(text, afterLat);
    index = afterLng;
    lat += dLat;
    lng += dLng;
    points.push({ lat: lat / 1e5, lng: lng / 1e5 });
  }
  return points;
}

function encodeValue(value: number): string {
  let v = value < 0 ? ~(value << 1) : value << 1;
  let out = '';
  while (v >= 0x20) {
    out += String.fromCharCode((0x20 | (v & 0x1f)) + 63);
    v >>= 5;
  }
  return out + String.fromCharCode(v + 63);
}

function decodeValue(text: string, start: number): [number, number] {
  let result = 0;
  let shift = 0;
  let index = start;
  let byte: number;
  do {
    byte = text.charCodeAt(index++) - 63;
    result |= (byte & 0x1f) << shift;
    shift += 5;
  } while (byte >= 0x20);
  return [result & 1 ? ~(result >> 1) : result >> 1, index];
}
