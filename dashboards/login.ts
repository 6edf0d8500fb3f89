import express, { type Router } from 'express';
import { decodeJwt } from 'jose';
import { InvalidTokenError, verifyToken } from '../runtime/tokens.ts';
import { TOKEN_COOKIE } from '../api/middleware/auth.ts';
import { escapeHtml } from './admin-gate.ts';
import { page } from './html.ts';

/**
 * `/admin/login`: an admin pastes a token (from `npx deligo token --role admin --sub me`) and
 * gets it back as an HttpOnly, SameSite=Strict cookie, which the admin pages accept.
 */
export function loginRouter(options: { secret: string }): Router {
  const router = express.Router();
  router.get('/admin/login', (req, res) => {
    res.type('html').send(loginPage(safeNext(req.query.next)));
  });
  router.post('/admin/login', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    const token = String(req.body?.token ?? '').trim();
    const next = safeNext(req.body?.next);
    try {
      const identity = await verifyToken(token, options.secret);
      if (identity.role !== 'admin') {
        res.status(403).type('html').send(loginPage(next, `That token has role ${identity.role}; only admins may sign in here`));
        return;
      }
      const expiresAt = (decodeJwt(token).exp ?? 0) * 1000;
      res.cookie(TOKEN_COOKIE, token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: req.secure,
        path: '/',
        maxAge: Math.max(0, expiresAt - Date.now()),
      });
      res.redirect(303, next);
    } catch (err) {
      if (!(err instanceof InvalidTokenError)) throw err;
      res.status(401).type('html').send(loginPage(next, err.message));
    }
  });
  router.post('/admin/logout', (_req, res) => {
    res.clearCookie(TOKEN_COOKIE, { path: '/' });
    res.redirect(303, '/admin/login');
  });
  return router;
}

/** Only our own admin pages are valid targets, so the login cannot be used as an open redirect. */
function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/admin\/[\w\-/?=&%.]*$/.test(value) && !value.startsWith('/admin/login') ? value : '/admin/queues';
}

function loginPage(next: string, error?: string): string {
  return page(
    'deligo admin sign-in',
    `${error ? `<p class="error">${escapeHtml(error)}.</p>` : ''}
<form method="post" action="/admin/login">
  <label for="token">Admin token</label>
  <textarea id="token" name="token" required placeholder="npx deligo token --role admin --sub you"></textarea>
  <input type="hidden" name="next" value="${escapeHtml(next)}">
  <button type="submit">Sign in</button>
</form>
<p>Get a development token with <code>npx deligo token --role admin --sub ops</code>.</p>`,
  );
}
