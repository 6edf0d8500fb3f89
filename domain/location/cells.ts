/**
 * The GEO index of available riders is split into square-ish cells of about 1.1 km, one Redis key
 * each, so the Gangnam hot spot spreads over a handful of keys (and Redis Cluster slots) and each
 * GEOSEARCH scans only a few hundred members.
 */
const CELL_LAT_DEG = 0.01; // ≈ 1.11 km
const CELL_LNG_DEG = 0.0125; // ≈ 1.10 km at Seoul's latitude (37.5°N)
const METERS_PER_DEG_LAT = 111_320;

export interface Cell {
  row: number;
  col: number;
}

export function cellOf(lat: number, lng: number): Cell {
  return { row: Math.floor(lat / CELL_LAT_DEG), col: Math.floor(lng / CELL_LNG_DEG) };
}

export function cellId(cell: Cell): string {
  return `${cell.row}:${cell.col}`;
}

/** Every cell a circle of `radiusMeters` around (lat, lng) touches. */
export function cellsCovering(lat: number, lng: number, radiusMeters: number): Cell[] {
  const dLat = radiusMeters / METERS_PER_DEG_LAT;
  const dLng = radiusMeters / (METERS_PER_DEG_LAT * Math.max(Math.cos((lat * Math.PI) / 180), 0.01));
  const low = cellOf(lat - dLat, lng - dLng);
  const high = cellOf(lat + dLat, lng + dLng);
  const cells: Cell[] = [];
  for (let row = low.row; row <= high.row; row++) {
    for (let col = low.col; col <= high.col; col++) cells.push({ row, col });
  }
  return cells;
}
