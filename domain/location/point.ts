/** One GPS fix from a rider's phone, as deligo keeps it. */
export interface LocationPoint {
  riderId: string;
  /** When the phone took the fix (epoch ms). With riderId, the point's identity. */
  recordedAt: number;
  lat: number;
  lng: number;
  /** m/s, as the phone reports it. */
  speed: number | null;
  /** Degrees from north, 0–360. */
  heading: number | null;
  /** Horizontal accuracy radius in metres. */
  accuracy: number | null;
  /** The phone says a mock-location app produced this fix. */
  mocked: boolean;
}
