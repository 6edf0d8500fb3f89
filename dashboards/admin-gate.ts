import type { ErrorRequestHandler, RequestHandler } from 'express';
import { HttpError } from '../api/errors.ts';
import { requireRole } from '../api/middleware/auth.ts';
import { page } from './html.ts';

/**
 * Admin-only pages. API clients get problem+json like everywhere else; a browser gets the same
 * status (401 or 403) with a page that leads to the login form.
 */
export function adminGate(authenticate: RequestHandler): Array<RequestHandler | ErrorRequestHandler> {
  const toBrowser: ErrorRequestHandler = (err, req, res, next) => {
    // Browsers ask for text/html by name; API clients and curl (*/*) get problem+json.
    const browser = req.headers.accept?.includes('text/html') ?? false;
    if (!(err instanceof HttpError) || ![401, 403].includes(err.status) || !browser) {
      return next(err);
    }
    const login = `/admin/login?next=${encodeURIComponent(req.originalUrl)}`;
    const body =
      err.status === 401
        ? `<p>Sign in with an admin token to continue.</p><p><a href="${login}">Sign in</a></p>`
        : `<p>${escapeHtml(err.message)}.</p><p><a href="${login}">Sign in as someone else</a></p>`;
    res.status(err.status).type('html').send(page(err.status === 401 ? 'Sign-in required' : 'Admins only', body));
  };
  return [authenticate, requireRole('admin'), toBrowser];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
