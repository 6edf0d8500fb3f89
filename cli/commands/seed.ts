import type { Command } from 'commander';
import { migrateLatest, type Knex } from '../../db/knex.ts';
import { upsertCatalogue } from '../../db/restaurants-repository.ts';
import { buildCatalogue, GANGNAM_STATION } from '../../domain/catalogue/seed-data.ts';
import { haversineMeters } from '../../domain/location/geo.ts';
import { CliError, openDbOrEmbedded, safeUrl, type CliContext } from '../connect.ts';
import { upsertGiftProducts } from '../../db/gift-products-repository.ts';
import { GIFT_PRODUCTS } from '../../domain/gifts/product-catalogue.ts';

/** Loads the gift catalogue (coffee, cakes, chicken, vouchers); upserted by id, safe to repeat. */
export async function seedGiftProducts(db: Knex): Promise<number> {
  return upsertGiftProducts(db, GIFT_PRODUCTS);
}

/** What one seed run wrote. */
export interface SeedSummary {
  restaurants: number;
  /** Restaurants within 1 km of 강남역, the hot spot the load tests aim at. */
  nearGangnam: number;
  items: number;
}

/** Loads the development catalogue; safe to repeat, since every row is upserted by its stable id. */
export async function seedCatalogue(db: Knex): Promise<SeedSummary> {
  const { restaurants, items } = buildCatalogue();
  const written = await upsertCatalogue(db, restaurants, items);
  const nearGangnam = restaurants.filter((r) => haversineMeters(r, GANGNAM_STATION) <= 1_000).length;
  return { restaurants: written.restaurants, nearGangnam, items: written.items };
}

/** `seeded 120 restaurants (44 near 강남역) and 1,012 menu items` */
export function describeSeed(summary: SeedSummary): string {
  const n = (value: number) => value.toLocaleString('en-US');
  return `seeded ${n(summary.restaurants)} restaurants (${n(summary.nearGangnam)} near 강남역) and ${n(summary.items)} menu items`;
}

/**
 * `deligo seed`: migrates, then loads restaurants and menus into DATABASE_URL or the running
 * `npm start`. With neither, it starts the embedded Postgres under DATA_DIR for this run, as
 * `deligo migrate` does, so a fresh checkout can be seeded before anything else is up.
 */
export function defineSeedCommand(parent: Command, context: () => CliContext): void {
  parent
    .command('seed')
    .description('load the development restaurants, menus and gift products (safe to repeat)')
    .action(async () => {
      const ctx = context();
      const { db, url } = await openDbOrEmbedded(ctx);
      let summary: SeedSummary;
      let giftProducts: number;
      try {
        const applied = await migrateLatest(db, ctx.config.databaseSchema);
        // stdout carries only the answer; migrations are news for the person, on stderr.
        for (const name of applied) process.stderr.write(`applied ${name}\n`);
        summary = await seedCatalogue(db);
        giftProducts = await seedGiftProducts(db);
      } catch (err) {
        throw new CliError(`cannot seed ${safeUrl(url)}: ${(err as Error).message}`);
      }
      process.stdout.write(`${describeSeed(summary)}\n`);
      process.stdout.write(`seeded ${giftProducts} gift products\n`);
    });
}
