import express, { type Router } from 'express';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const here = import.meta.dirname;

/** Where the pages' scripts and styles are served from. */
export const ASSETS_PATH = '/ui';

/**
 * The pages' plain JS and CSS, served as they are (no build step). Nothing in them is secret;
 * the data they show comes from authenticated endpoints. Browsers revalidate with the ETag, so
 * a deploy is picked up at the next load.
 */
export function staticAssets(): Router {
  const router = express.Router();
  router.use(ASSETS_PATH, express.static(path.join(here, 'public'), { index: false, fallthrough: true, maxAge: 0, setHeaders: (res) => res.set('cache-control', 'no-cache') }));
  return router;
}

/** A page's HTML, read once at start-up. */
export function pageFile(name: string): string {
  return readFileSync(path.join(here, 'pages', name), 'utf8');
}
