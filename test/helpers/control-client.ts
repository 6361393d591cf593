// Talking to a server's HTTP control port (`meridian dns --http`): any request, and /metrics.

export async function control(
  server: { controlUrl: string },
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; json: unknown }> {
  const res = await fetch(new URL(path, server.controlUrl), { method, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

export async function scrapeMetrics(server: { controlUrl: string }): Promise<string> {
  const res = await control(server, 'GET', '/metrics');
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${res.text}`);
  return res.text;
}
