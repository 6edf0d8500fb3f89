import express, { type Router } from 'express';
import { decodeJwt } from 'jose';
import { TOKEN_COOKIE } from '../api/middleware/auth.ts';
import { InvalidTokenError, verifyToken } from '../runtime/tokens.ts';
import { escapeHtml } from './admin-gate.ts';
import { page } from './html.ts';
import { pageFile } from './static-assets.ts';

const ORDER_ID = /^[\w-]{1,64}$/;

/**
 * `/track/:orderId?token=…`: the customer's tracking page. The page itself is the same for
 * everyone; its data comes from `GET /v1/orders/:id/tracking` and `…/tracking/stream`, which
 * check that the caller is a party to the order.
 *
 * The link's token becomes an HttpOnly cookie scoped to this order's API paths
 * (`/v1/orders/<id>`), so the page's EventSource carries it, the token never reaches scripts,
 * and the link keeps working without it. The narrower path wins over a session cookie of the
 * same name, and the cookie is sent nowhere else, so an admin's session is neither replaced nor
 * widened.
 */
export function trackingPageRouter(options: { secret: string }): Router {
  const router = express.Router();
  const html = pageFile('track.html');
  router.get('/track/:orderId', async (req, res) => {
    const orderId = String(req.params.orderId);
    if (!ORDER_ID.test(orderId)) {
      res.status(400).type('html').send(page('주문을 찾을 수 없어요', '<p>링크의 주문 번호가 올바르지 않아요.</p>'));
      return;
    }
    const token = typeof req.query.token === 'string' ? req.query.token.trim() : '';
    if (token) {
      try {
        await verifyToken(token, options.secret);
      } catch (err) {
        if (!(err instanceof InvalidTokenError)) throw err;
        res.status(401).type('html').send(page('링크를 열 수 없어요', `<p>이 링크는 만료되었거나 올바르지 않아요 (${escapeHtml(err.message)}).</p>`));
        return;
      }
      const exp = decodeJwt(token).exp;
      res.cookie(TOKEN_COOKIE, token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: req.secure,
        path: `/v1/orders/${orderId}`,
        // Lives as long as the token; a token without expiry gives a session cookie.
        ...(exp ? { maxAge: Math.max(0, exp * 1000 - Date.now()) } : {}),
      });
    }
    // The token in the address bar would leak through history and Referer; the page drops it.
    res.set({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).type('html').send(html);
  });
  return router;
}
