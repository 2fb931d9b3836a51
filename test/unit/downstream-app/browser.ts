/**
 * A tiny cookie-keeping browser over fetch for driving the demo app: no redirects followed unless
 * asked, cookies kept per origin, the last page's CSRF token sent with every form.
 */
export interface Page {
  status: number;
  url: URL;
  location: string | null;
  html: string;
}

export interface Browser {
  get(url: string | URL): Promise<Page>;
  /** Posts an urlencoded form; `_csrf` is the last page's token unless given. */
  post(url: string | URL, form?: Record<string, string>): Promise<Page>;
  /** Follows redirects (any origin) until a non-redirect answer. */
  follow(page: Page, maxHops?: number): Promise<Page>;
  cookies(origin: string): Map<string, string>;
}

export function createBrowser(baseUrl: string): Browser {
  const jars = new Map<string, Map<string, string>>();
  let csrfToken = '';

  const jar = (origin: string): Map<string, string> => {
    let cookies = jars.get(origin);
    if (!cookies) jars.set(origin, (cookies = new Map()));
    return cookies;
  };

  const send = async (url: URL, init: RequestInit): Promise<Page> => {
    const cookies = jar(url.origin);
    const headers = new Headers(init.headers);
    if (cookies.size > 0) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    headers.set('accept', 'text/html');
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const index = pair.indexOf('=');
      cookies.set(pair.slice(0, index).trim(), pair.slice(index + 1).trim());
    }
    const html = await response.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (token) csrfToken = token;
    return { status: response.status, url, location: response.headers.get('location'), html };
  };

  const resolve = (url: string | URL): URL => new URL(url, baseUrl);

  const browser: Browser = {
    get: (url) => send(resolve(url), { method: 'GET' }),
    post: (url, form = {}) =>
      send(resolve(url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrfToken, ...form }).toString(),
      }),
    async follow(page, maxHops = 10) {
      let current = page;
      for (let hop = 0; hop < maxHops && current.location && current.status >= 300 && current.status < 400; hop += 1) {
        current = await browser.get(new URL(current.location, current.url));
      }
      return current;
    },
    cookies: (origin) => jar(origin),
  };
  return browser;
}

/** Text content of the element carrying `data-field="<name>"` on the page. */
export function field(html: string, name: string): string | undefined {
  return new RegExp(`data-field="${name}"[^>]*>([^<]*)<`).exec(html)?.[1]?.trim();
}

export function decodeEntities(text: string): string {
  return text.replace(/&#34;/g, '"').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
