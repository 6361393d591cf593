// What the demo origin serves, one kind of content per block, each with the cache headers a real
// site would send for it, so the edge's behaviour is visible with curl:
//   assets   fingerprinted, immutable for a year, ETag + Last-Modified
//   pages    10 s fresh, then 30 s stale-while-revalidate; Last-Modified only (revalidated by date)
//   API      60 s at the edge (CDN-Cache-Control; s-maxage for other shared caches), 5 s in
//            browsers, Surrogate-Key / Cache-Tag for purges, ETag
//   cart     per user: private, no-store, a Set-Cookie
import { randomBytes } from 'node:crypto';
import type { RequestHeaders } from './conditional.js';
import { findProduct, productKeys, PRODUCTS, type Product } from './products.js';
import { etagOf, httpDate, resource, type Resource } from './resource.js';
import { ASSETS, PAGES } from './site.js';

export interface RouteContext {
  /** When this "deployment" went live: the Last-Modified of the site (ms since the epoch). */
  readonly deployedAt: number;
  readonly headers: RequestHeaders;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
const PAGE = 'public, max-age=10, stale-while-revalidate=30';
const API_BROWSER = 'public, max-age=5, s-maxage=60';
const API_CDN = 'max-age=60, stale-while-revalidate=30, stale-if-error=600';
const NOT_FOUND = 'public, max-age=10';

const assets = new Map(ASSETS.map((a) => [a.path, a]));
const PRODUCT_PATH = /^\/api\/products\/([^/]+)$/;

export function route(path: string, ctx: RouteContext): Resource {
  const asset = assets.get(path);
  if (asset) {
    return resource(
      200,
      {
        'content-type': asset.contentType,
        'cache-control': IMMUTABLE,
        etag: etagOf(asset.body),
        'last-modified': httpDate(ctx.deployedAt),
      },
      asset.body,
    );
  }
  const html = PAGES.get(path);
  if (html !== undefined) {
    return resource(
      200,
      { 'content-type': 'text/html; charset=utf-8', 'cache-control': PAGE, 'last-modified': httpDate(ctx.deployedAt) },
      html,
    );
  }
  if (path === '/api/products') return api({ products: PRODUCTS }, PRODUCTS);
  const m = PRODUCT_PATH.exec(path);
  if (m) {
    const product = findProduct(m[1]!);
    // A missing product is cached briefly too: a burst of requests for it must not all reach us.
    if (!product) return json(404, { 'cache-control': NOT_FOUND }, { error: `no product '${m[1]}'` });
    return api(product, [product]);
  }
  if (path === '/api/cart') return cart(ctx.headers);
  if (path === '/healthz') return json(200, { 'cache-control': 'no-store' }, { ok: true });
  return resource(
    404,
    { 'content-type': 'text/html; charset=utf-8', 'cache-control': NOT_FOUND },
    '<!doctype html><title>Not found</title><h1>Not found</h1>\n',
  );
}

function api(data: unknown, products: readonly Product[]): Resource {
  const body = `${JSON.stringify(data)}\n`;
  const keys = productKeys(products);
  return json(
    200,
    {
      'cache-control': API_BROWSER,
      'cdn-cache-control': API_CDN,
      // Fastly/Varnish spell it Surrogate-Key (space separated), Cloudflare Cache-Tag (commas).
      'surrogate-key': keys.join(' '),
      'cache-tag': keys.join(','),
      etag: etagOf(body),
    },
    data,
    body,
  );
}

const CART_COOKIE = /(?:^|;\s*)cart=([0-9a-f]{16})(?:;|$)/;

function cart(headers: RequestHeaders): Resource {
  const cookie = typeof headers.cookie === 'string' ? headers.cookie : '';
  const existing = CART_COOKIE.exec(cookie)?.[1];
  const id = existing ?? randomBytes(8).toString('hex');
  return json(
    200,
    {
      'cache-control': 'private, no-store',
      ...(existing === undefined && { 'set-cookie': `cart=${id}; Path=/; HttpOnly; SameSite=Lax` }),
    },
    { cart: id, items: [] },
  );
}

function json(
  status: number,
  headers: Record<string, string>,
  data: unknown,
  body = `${JSON.stringify(data)}\n`,
): Resource {
  return resource(status, { 'content-type': 'application/json; charset=utf-8', ...headers }, body);
}
