// The API's data: a small fixed catalogue, so every origin instance (and every restart) serves
// the same bytes and the same ETags. Product 42 is the one the edge README purges by tag.

export interface Product {
  readonly id: number;
  readonly name: string;
  readonly priceCents: number;
  readonly currency: 'EUR';
  readonly stock: number;
}

export const PRODUCTS: readonly Product[] = [
  { id: 1, name: 'Edge Node Mug', priceCents: 1290, currency: 'EUR', stock: 120 },
  { id: 2, name: 'Anycast Hoodie', priceCents: 4900, currency: 'EUR', stock: 35 },
  { id: 3, name: 'TTL Stopwatch', priceCents: 2450, currency: 'EUR', stock: 0 },
  { id: 42, name: 'Cache Key Lanyard', priceCents: 590, currency: 'EUR', stock: 999 },
];

export function findProduct(id: string): Product | undefined {
  // Only canonical decimal ids: '042' or '4e1' would otherwise be a second URL for one object.
  if (!/^[1-9][0-9]{0,8}$/.test(id)) return undefined;
  return PRODUCTS.find((p) => p.id === Number(id));
}

/** The surrogate keys of a response: purge `products` for every product page, `product-N` for one. */
export function productKeys(products: readonly Product[]): string[] {
  return ['products', ...products.map((p) => `product-${p.id}`)];
}
