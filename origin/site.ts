// The static site: fingerprinted assets (the file name carries a hash of the content, so an
// asset never changes under its name and may be cached for a year) and the HTML pages that
// reference them (short TTL: a deploy must show up within seconds).
import { createHash } from 'node:crypto';

export interface Asset {
  /** e.g. '/assets/app.3f9a1c2b.js' */
  readonly path: string;
  readonly contentType: string;
  readonly body: string;
}

const APP_JS = `// Meridian demo shop: lists the products from the API (cached at the edge for 60 s).
fetch('/api/products')
  .then((res) => res.json())
  .then(({ products }) => {
    const list = document.querySelector('#products');
    for (const p of products) {
      const li = document.createElement('li');
      li.textContent = p.name + ' - ' + (p.priceCents / 100).toFixed(2) + ' ' + p.currency;
      list.append(li);
    }
  });
`;

const APP_CSS = `body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 40rem; color: #1d2433; }
header { display: flex; align-items: center; gap: 1rem; }
header img { width: 48px; height: 48px; }
code { background: #eef1f6; padding: 0 .25rem; border-radius: 3px; }
`;

const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48" role="img" aria-label="Meridian">
  <circle cx="24" cy="24" r="22" fill="none" stroke="#2d6cdf" stroke-width="3"/>
  <path d="M24 2v44M2 24h44M8 12c10 6 22 6 32 0M8 36c10-6 22-6 32 0" fill="none" stroke="#2d6cdf" stroke-width="2"/>
</svg>
`;

function fingerprinted(name: string, contentType: string, body: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 8);
  const dot = name.lastIndexOf('.');
  return { path: `/assets/${name.slice(0, dot)}.${hash}${name.slice(dot)}`, contentType, body };
}

export const ASSETS: readonly Asset[] = [
  fingerprinted('app.js', 'text/javascript; charset=utf-8', APP_JS),
  fingerprinted('app.css', 'text/css; charset=utf-8', APP_CSS),
  fingerprinted('logo.svg', 'image/svg+xml', LOGO_SVG),
];

/** The fingerprinted path of an asset by its plain name ('app.js' → '/assets/app.3f9a1c2b.js'). */
export function assetPath(name: string): string {
  const dot = name.lastIndexOf('.');
  const re = new RegExp(`^/assets/${escape(name.slice(0, dot))}\\.[0-9a-f]{8}${escape(name.slice(dot))}$`);
  const asset = ASSETS.find((a) => re.test(a.path));
  if (!asset) throw new Error(`no asset named ${name}`);
  return asset.path;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function page(title: string, main: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title} · Meridian demo</title>
<link rel="stylesheet" href="${assetPath('app.css')}">
</head>
<body>
<header><img src="${assetPath('logo.svg')}" alt=""><h1>${title}</h1></header>
<nav><a href="/">Shop</a> · <a href="/about">About</a></nav>
${main}
</body>
</html>
`;
}

export const PAGES: ReadonlyMap<string, string> = new Map([
  [
    '/',
    page(
      'Meridian demo shop',
      `<p>Served through the edge of the PoP your DNS answer chose. Products come from <code>/api/products</code>.</p>
<ul id="products"></ul>
<script src="${assetPath('app.js')}" defer></script>`,
    ),
  ],
  [
    '/about',
    page(
      'About this demo',
      `<p>Assets are fingerprinted and cached for a year; pages for 10 s, then served stale for up to 30 s
while the edge refreshes them; the API for 60 s at the edge (CDN-Cache-Control), purgeable by
Surrogate-Key; the cart is never cached.</p>`,
    ),
  ],
]);
