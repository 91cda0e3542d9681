import { CookieJar } from 'tough-cookie';
import { parse, type HTMLElement } from 'node-html-parser';

export interface Page {
  url: string;
  status: number;
  headers: Headers;
  html: string;
  document: HTMLElement;
}

export interface Redirected {
  /** Where NetID sent the browser outside its own origin (the relying party's redirect_uri). */
  location: URL;
}

/**
 * A person's browser reduced to what the OIDC flows need: a cookie jar, form
 * posts, and redirects followed within NetID's origin. It stops at the first
 * redirect that leaves NetID, which is what a relying party receives.
 */
export class UserAgent {
  readonly jar = new CookieJar();

  /**
   * `forwardedFor` is the client address a reverse proxy would report
   * (X-Forwarded-For), for a NetID started with TRUST_PROXY=true: browsers
   * that look as if they came from different machines. `userAgent` is the
   * browser it says it is.
   */
  constructor(
    private readonly origin: string,
    private readonly options: { forwardedFor?: string; userAgent?: string } = {},
  ) {}

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Page | Redirected> {
    let current = new URL(url, this.origin);
    let method = init.method ?? (init.form ? 'POST' : 'GET');
    let body: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
    for (let hops = 0; hops < 20; hops++) {
      if (current.origin !== new URL(this.origin).origin) return { location: current };
      const response = await fetch(current, {
        method,
        redirect: 'manual',
        headers: {
          cookie: await this.jar.getCookieString(current.toString()),
          accept: 'text/html',
          ...(this.options.forwardedFor ? { 'x-forwarded-for': this.options.forwardedFor } : {}),
          ...(this.options.userAgent ? { 'user-agent': this.options.userAgent } : {}),
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body,
      });
      for (const cookie of response.headers.getSetCookie()) {
        await this.jar.setCookie(cookie, current.toString(), { ignoreError: true });
      }
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        current = new URL(location, current);
        method = 'GET';
        body = undefined;
        continue;
      }
      const html = await response.text();
      return { url: current.toString(), status: response.status, headers: response.headers, html, document: parse(html) };
    }
    throw new Error('too many redirects');
  }

  async page(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Page> {
    const result = await this.request(url, init);
    if ('location' in result) throw new Error(`expected a NetID page, was redirected to ${result.location.toString()}`);
    return result;
  }

  async redirect(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<URL> {
    const result = await this.request(url, init);
    if (!('location' in result)) throw new Error(`expected a redirect to the relying party, got ${result.status} at ${result.url}:\n${result.html.slice(0, 2000)}`);
    return result.location;
  }

  /** Submits the form matching `selector` on `page` with its hidden fields plus `fields`. */
  async submit(page: Page, selector: string, fields: Record<string, string> = {}): Promise<Page | Redirected> {
    const form = page.document.querySelector(selector);
    if (!form) throw new Error(`no form ${selector} on ${page.url}:\n${page.html.slice(0, 2000)}`);
    const values: Record<string, string> = {};
    for (const input of form.querySelectorAll('input')) {
      const name = input.getAttribute('name');
      if (name && input.getAttribute('type') === 'hidden') values[name] = input.getAttribute('value') ?? '';
    }
    const action = new URL(form.getAttribute('action') ?? page.url, page.url).toString();
    return this.request(action, { form: { ...values, ...fields } });
  }
}

export function isPage(result: Page | Redirected): result is Page {
  return !('location' in result);
}
