/**
 * The GEO index of available riders is split into square-ish cells of about 1.1 km, one Redis key
 * each, so the Gangnam hot spot spreads over a handful of keys (and Redis Cluster slots) and each
 * GEOSEARCH scans only a few hundred members.
 */
const CELL_LAT_DEG = 0.01; // ≈ 1.11 km
const CELL_LNG_DEG = 0.0125; // ≈ 1.10 km at Seoul's latitude (37.5°N)
/**
 * Redis measures GEO distances on a sphere of radius 6,372,797.56 m: about 111,226 m per degree,
 * a little less than the 111,320 the cell sizes are described in. Reach is computed in Redis's.
 */
const REDIS_METERS_PER_DEG = (6_372_797.560856 * Math.PI) / 180;

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

/**
 * Every cell a circle of `radiusMeters` around (lat, lng) touches. The box is taken in Redis's
 * metres (see REDIS_METERS_PER_DEG), at the cosine of the circle's poleward edge, so it never falls
 * short of what a GEOSEARCH of that radius reaches; 10 m over, as a GEO member is stored with about
 * 0.6 m of error and so can lie a hair outside the cell it is filed in.
 */
export function cellsCovering(lat: number, lng: number, radiusMeters: number): Cell[] {
  const reach = radiusMeters + 10;
  const dLat = reach / REDIS_METERS_PER_DEG;
  const dLng = reach / (REDIS_METERS_PER_DEG * Math.max(Math.cos((Math.min(90, Math.abs(lat) + dLat) * Math.PI) / 180), 0.01));
  const low = cellOf(lat - dLat, lng - dLng);
  const high = cellOf(lat + dLat, lng + dLng);
  const cells: Cell[] = [];
  for (let row = low.row; row <= high.row; row++) {
    for (let col = low.col; col <= high.col; col++) cells.push({ row, col });
  }
  return cells;
}

export interface CellReach {
  cell: Cell;
  /** A lower bound of the distance from the query point to any point of the cell, metres (0 inside it). */
  edgeMeters: number;
}

/**
 * The cells a circle touches, nearest first, with how far each one's nearest edge is, leaving out
 * the cells that lie wholly outside the circle (for a 1 km circle about 2 of the 9 cells in
 * `cellsCovering`). A search can visit them in this order and stop at the first cell whose edge is
 * farther than the k-th nearest rider found so far. The bound is conservative (1% and 5 m short):
 * GEO members are stored with about 0.6 m of error, so one can sit a hair outside its cell.
 */
export function cellsByDistance(lat: number, lng: number, radiusMeters: number): CellReach[] {
  const out: CellReach[] = [];
  for (const cell of cellsCovering(lat, lng, radiusMeters)) {
    const south = cell.row * CELL_LAT_DEG;
    const west = cell.col * CELL_LNG_DEG;
    const dLat = lat < south ? south - lat : Math.max(0, lat - (south + CELL_LAT_DEG));
    const dLng = lng < west ? west - lng : Math.max(0, lng - (west + CELL_LNG_DEG));
    // East-west metres shrink toward the poles: take the cosine at the higher of the two latitudes.
    const cos = Math.cos((Math.min(90, Math.abs(lat) + dLat) * Math.PI) / 180);
    const metres = Math.hypot(dLat * REDIS_METERS_PER_DEG, dLng * REDIS_METERS_PER_DEG * cos);
    const edgeMeters = Math.max(0, metres * 0.99 - 5);
    if (edgeMeters <= radiusMeters) out.push({ cell, edgeMeters });
  }
  return out.sort((a, b) => a.edgeMeters - b.edgeMeters || a.cell.row - b.cell.row || a.cell.col - b.cell.col);
}
