import { z } from 'zod';
import type { LocationPoint } from '../domain/location/point.ts';

/**
 * Points travel through the location queue as tuples, about half the bytes of objects:
 * [riderId, recordedAt, lat, lng, speed, heading, accuracy, mocked (0|1)].
 */
export type PointTuple = [string, number, number, number, number | null, number | null, number | null, 0 | 1];

export const pointTuple = z.tuple([
  z.string().min(1),
  z.number().int(),
  z.number().min(-90).max(90),
  z.number().min(-180).max(180),
  z.number().nullable(),
  z.number().nullable(),
  z.number().nullable(),
  z.union([z.literal(0), z.literal(1)]),
]);

export function toTuple(p: LocationPoint): PointTuple {
  return [p.riderId, p.recordedAt, p.lat, p.lng, p.speed, p.heading, p.accuracy, p.mocked ? 1 : 0];
}

export function fromTuple([riderId, recordedAt, lat, lng, speed, heading, accuracy, mocked]: PointTuple): LocationPoint {
  return { riderId, recordedAt, lat, lng, speed, heading, accuracy, mocked: mocked === 1 };
}
