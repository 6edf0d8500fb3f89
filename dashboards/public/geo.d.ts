// Types for geo.js, which the browser loads as is (no build step) and the tests import.
export interface LatLng {
  lat: number;
  lng: number;
}
export interface View {
  x: number;
  y: number;
  zoom: number;
}
export function project(lat: number, lng: number): { x: number; y: number };
export function unproject(x: number, y: number): LatLng;
export function haversineMeters(a: LatLng, b: LatLng): number;
export function fitView(points: LatLng[], width: number, height: number, padding?: number, maxZoom?: number): View;
export function fitBounds(bounds: { minX: number; maxX: number; minY: number; maxY: number }, width: number, height: number, padding?: number, maxZoom?: number): View;
export function toScreen(view: View, lat: number, lng: number, width: number, height: number): { x: number; y: number };
export function easeOutCubic(t: number): number;
export function glideDuration(intervalMs: number, maxMs?: number, minMs?: number): number;
export interface Glide {
  target(fix: LatLng, now: number): void;
  at(now: number): LatLng | null;
  readonly goal: LatLng | null;
  moving(now: number): boolean;
}
export function createGlide(options?: { maxMs?: number }): Glide;
export function countdown(etaAt: string | null, now: number): string | null;
