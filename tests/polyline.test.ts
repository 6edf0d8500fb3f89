import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decodePolyline, encodePolyline } from '../domain/location/polyline.ts';

it('encodes Google’s reference polyline and decodes it back', () => {
  const points = [
    { lat: 38.5, lng: -120.2 },
    { lat: 40.7, lng: -120.95 },
    { lat: 43.252, lng: -126.453 },
  ];
  assert.equal(encodePolyline(points), '_p~iF~ps|U_ulLnnqC_mqNvxq`@');
  assert.deepEqual(decodePolyline('_p~iF~ps|U_ulLnnqC_mqNvxq`@'), points);
  assert.equal(encodePolyline([]), '');
});
