// A minimal browser for end-to-end tests over real HTTP: a cookie jar, manual redirects, and form
// submission that picks up the page's CSRF token, so tests drive the real pages as a user would.
export interface Page {
  url: string;
  status: number;
  html: string;
  /** the Retry-After header of the last response, when it had one. */
  retryAfter?: string;
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

export class UserAgent {
  private readonly cookies = new Map<string, Cookie>();

  private readonly timeoutMs: number | undefined;

  /** @param timeoutMs when set, a request that has not answered by then fails (AbortSignal.timeout). */
  constructor(timeoutMs?: number) {
    this.timeoutMs = timeoutMs;
  }

  private cookieHeader(url: URL): string {
    return [...this.cookies.values()]
      .filter((c) => url.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const pathAttr = attrs.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('path='));
      const path = pathAttr ? pathAttr.slice(5) : '/';
      const expired = attrs.some((a) => /^max-age=0$/i.test(a.trim()) || /^expires=thu, 01 jan 1970/i.test(a.trim()));
      const key = `${name};${path}`;
      if (expired || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  /** One request, no redirect following. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(target);
    if (cookie) headers.set('cookie', cookie);
    const signal = init.signal ?? (this.timeoutMs === undefined ? undefined : AbortSignal.timeout(this.timeoutMs));
    const send = () => fetch(target, { ...init, headers, redirect: 'manual', ...(signal ? { signal } : {}) });
    // As browsers do: a kept-alive connection the server closed just as the request went out fails
    // before any answer; the request goes once more, on a new connection.
    const res = await send().catch((error: unknown) => {
      if (connectionDropped(error)) return send();
      throw error;
    });
    this.remember(res);
    return res;
  }

  /**
   * Follows redirects until a page is returned, or until a Location starts with `stopAt`
   * (the client's redirect URI, which no server answers in these tests).
   */
  async follow(url: string, init: RequestInit = {}, stopAt?: string): Promise<Page> {
    let res = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 20 && res.status >= 300 && res.status < 400; hops++) {
      const location = new URL(res.headers.get('location') ?? '', current).href;
      if (stopAt && location.startsWith(stopAt)) return { url: location, status: res.status, html: '' };
      current = location;
      res = await this.request(location);
    }
    const retryAfter = res.headers.get('retry-after');
    return { url: current, status: res.status, html: await res.text(), ...(retryAfter === null ? {} : { retryAfter }) };
  }

  async get(url: string, stopAt?: string): Promise<Page> {
    return this.follow(url, {}, stopAt);
  }

  /** The request that submit() would send (URL, headers with this agent's cookies, body), for a client of another thread. */
  formRequest(page: Page, actionPart: string, fields: Record<string, string>): { url: string; headers: Record<string, string>; body: string } {
    const form = findForm(page.html, actionPart);
    const url = new URL(form.action, page.url);
    const cookie = this.cookieHeader(url);
    return {
      url: url.href,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams({ ...form.hidden, ...fields }).toString(),
    };
  }

  /** Submits the form whose action contains `actionPart`, with the page's hidden fields plus `fields`. */
  async submit(page: Page, actionPart: string, fields: Record<string, string>, stopAt?: string): Promise<Page> {
    const form = findForm(page.html, actionPart);
    const body = new URLSearchParams({ ...form.hidden, ...fields });
    return this.follow(new URL(form.action, page.url).href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }, stopAt);
  }
}

const decode = (s: string) => s.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>');

export function findForm(html: string, actionPart: string): { action: string; hidden: Record<string, string> } {
  const forms = [...html.matchAll(/<form\b[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)];
  const match = forms.find((f) => decode(f[1] ?? '').includes(actionPart));
  if (!match) throw new Error(`no form with action containing ${actionPart} in:\n${html.slice(0, 2000)}`);
  const hidden: Record<string, string> = {};
  for (const input of (match[2] ?? '').matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(input[0])?.[1];
    const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
    if (name) hidden[name] = decode(value);
  }
  return { action: decode(match[1] ?? ''), hidden };
}

/** Text content of the first element matching a tag/class, for assertions on messages. */
export const textOf = (html: string) => decode(html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' '));

/** fetch failed because the connection closed or reset before any answer came. */
function connectionDropped(error: unknown): boolean {
  const cause = error instanceof TypeError ? (error.cause as { code?: unknown } | undefined) : undefined;
  return cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET';
}
