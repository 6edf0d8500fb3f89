/** What deligo knows about restaurants and their menus. */

/** Restaurant categories; the `restaurants_category_check` constraint holds the same list. */
export const CATEGORIES = ['korean', 'chicken', 'pizza', 'chinese', 'japanese', 'bunsik', 'cafe', 'burger', 'jokbal'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface CatalogueRestaurant {
  /** Stable across runs, e.g. `rest-gangnam-001`. */
  id: string;
  name: string;
  category: Category;
  lat: number;
  lng: number;
  address: string;
  /** Won. */
  minOrder: number;
  /** Won. */
  deliveryTip: number;
  /** Usual cook time in minutes, before the restaurant states its own per order. */
  prepMinutes: number;
  open: boolean;
}

export interface CatalogueMenuItem {
  /** Stable across runs, e.g. `rest-gangnam-001-m03`. */
  id: string;
  restaurantId: string;
  name: string;
  description: string | null;
  /** Won, always positive. */
  price: number;
  available: boolean;
  /** Display order within the restaurant's menu, from 1. */
  sort: number;
}

export interface Catalogue {
  restaurants: CatalogueRestaurant[];
  items: CatalogueMenuItem[];
}
