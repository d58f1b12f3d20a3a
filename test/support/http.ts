/** A small JSON client for the real HTTP API. */
export function apiClient(baseUrl: string, token?: string) {
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const json: unknown = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined;
    return { status: res.status, headers: res.headers, json: json as Record<string, unknown> & { [k: string]: unknown }, text };
  }
  return {
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body ?? {}, headers),
    put: (path: string, body?: unknown, headers?: Record<string, string>) => call('PUT', path, body ?? {}, headers),
    delete: (path: string, headers?: Record<string, string>) => call('DELETE', path, undefined, headers),
  };
}

/** Posts an HTML form the way a browser would, keeping cookies in `jar`. */
export async function postForm(url: string, fields: Record<string, string>, jar?: Map<string, string>) {
  const res = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(jar ? { cookie: cookieHeader(jar) } : {}) },
    body: new URLSearchParams(fields).toString(),
  });
  if (jar) storeCookies(res, jar);
  return { status: res.status, text: await res.text(), headers: res.headers };
}

export async function getPage(url: string, jar?: Map<string, string>) {
  const res = await fetch(url, { redirect: 'manual', headers: jar ? { cookie: cookieHeader(jar) } : {} });
  if (jar) storeCookies(res, jar);
  return { status: res.status, text: await res.text(), headers: res.headers };
}

function cookieHeader(jar: Map<string, string>): string {
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

function storeCookies(res: Response, jar: Map<string, string>): void {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair?.indexOf('=') ?? -1;
    if (pair && eq > 0) jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
}
