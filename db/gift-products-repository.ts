import type { Knex } from 'knex';
import type { GiftProduct } from '../domain/gifts/product-catalogue.ts';

interface ProductRow {
  id: string;
  brand: string;
  name: string;
  category: GiftProduct['category'];
  price: number;
  validity_days: number;
  active: boolean;
}

const toProduct = (r: Omit<ProductRow, 'active'>): GiftProduct => ({ id: r.id, brand: r.brand, name: r.name, category: r.category, price: r.price, validityDays: r.validity_days });

export async function listGiftProducts(db: Knex, filter: { category?: string } = {}): Promise<GiftProduct[]> {
  const query = db<ProductRow>('gift_products').where({ active: true }).orderBy(['category', 'price', 'id']);
  if (filter.category) query.where('category', filter.category);
  return (await query.select('id', 'brand', 'name', 'category', 'price', 'validity_days')).map(toProduct);
}

export async function getGiftProduct(db: Knex, id: string): Promise<GiftProduct | undefined> {
  const row = await db<ProductRow>('gift_products').where({ id, active: true }).first('id', 'brand', 'name', 'category', 'price', 'validity_days');
  return row && toProduct(row);
}

/** Upserts by id, so seeding twice changes nothing and a price change is picked up. */
export async function upsertGiftProducts(db: Knex, products: readonly GiftProduct[]): Promise<number> {
  if (products.length === 0) return 0;
  await db('gift_products')
    .insert(products.map((p) => ({ id: p.id, brand: p.brand, name: p.name, category: p.category, price: p.price, validity_days: p.validityDays, active: true })))
    .onConflict('id')
    .merge(['brand', 'name', 'category', 'price', 'validity_days', 'active']);
  return products.length;
}
