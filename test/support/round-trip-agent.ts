import { parse, type HTMLElement } from 'node-html-parser';
import { CookieJar } from 'tough-cookie';

export interface AgentPage {
  url: string;
  status: number;
  html: string;
  document: HTMLElement;
}

export interface LeftFor {
  /** Where the browser was sent outside the origins it follows (a relying party's redirect_uri). */
  location: URL;
}

/**
 * A browser reduced to what a round trip through a provider needs: one cookie
 * jar for every origin (cookies are kept per host as a browser keeps them),
 * redirects followed between NetID and the stand-in providers, and the pages
 * that post themselves on at once (a provider's form_post page, NetID's page
 * that posts an answer on) submitted as a browser would run their script.
 * It stops at a page, or at a redirect to an origin it does not follow.
 */
export class RoundTripAgent {
  readonly jar = new CookieJar();
  /** Where to stop instead of following, as if the browser had been closed there (a provider's answer not yet delivered). */
  stopAt: ((url: URL) => boolean) | undefined;

  constructor(private readonly origins: string[]) {}

  async request(url: string, init: { form?: Record<string, string> } = {}): Promise<AgentPage | LeftFor> {
    let current = new URL(url, this.origins[0]);
    let method = init.form ? 'POST' : 'GET';
    let body = init.form ? new URLSearchParams(init.form).toString() : undefined;
    for (let hops = 0; hops < 30; hops++) {
      if (!this.origins.includes(current.origin) || this.stopAt?.(current)) return { location: current };
      const response = await fetch(current, {
        method,
        redirect: 'manual',
        headers: {
          cookie: await this.jar.getCookieString(current.toString()),
          accept: 'text/html',
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body,
      });
      for (const cookie of response.headers.getSetCookie()) await this.jar.setCookie(cookie, current.toString(), { ignoreError: true });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        current = new URL(location, current);
        method = 'GET';
        body = undefined;
        continue;
      }
      const html = await response.text();
      const document = parse(html);
      const autoPost = document.querySelector('form#federation-continue') ?? (html.includes('<title>Submitting Callback</title>') ? document.querySelector('form') : null);
      if (autoPost) {
        current = new URL(autoPost.getAttribute('action')!, current);
        method = 'POST';
        body = new URLSearchParams(autoPost.querySelectorAll('input[type=hidden]').map((input) => [input.getAttribute('name')!, input.getAttribute('value') ?? ''])).toString();
        continue;
      }
      return { url: current.toString(), status: response.status, html, document };
    }
    throw new Error('too many redirects');
  }

  async page(url: string, init: { form?: Record<string, string> } = {}): Promise<AgentPage> {
    const result = await this.request(url, init);
    if ('location' in result) throw new Error(`expected a page, was sent to ${result.location.toString()}`);
    return result;
  }

  /** Submits the form matching `selector` with its hidden fields plus `fields`. */
  async submit(page: AgentPage, selector: string, fields: Record<string, string> = {}): Promise<AgentPage | LeftFor> {
    const form = page.document.querySelector(selector);
    if (!form) throw new Error(`no form ${selector} on ${page.url}:\n${page.html.slice(0, 3000)}`);
    const values: Record<string, string> = {};
    for (const input of form.querySelectorAll('input[type=hidden]')) values[input.getAttribute('name')!] = input.getAttribute('value') ?? '';
    return this.request(new URL(form.getAttribute('action') ?? page.url, page.url).toString(), { form: { ...values, ...fields } });
  }

  async submitPage(page: AgentPage, selector: string, fields: Record<string, string> = {}): Promise<AgentPage> {
    const result = await this.submit(page, selector, fields);
    if ('location' in result) throw new Error(`expected a page, was sent to ${result.location.toString()}`);
    return result;
  }
}

export const isAgentPage = (result: AgentPage | LeftFor): result is AgentPage => !('location' in result);

/** The text of every alert on a page, as a person would hear it read out: hidden ones (a script's, unused) are silent. */
export const alertsOn = (page: AgentPage) =>
  page.document
    .querySelectorAll('[role=alert]')
    .filter((element) => !element.hasAttribute('hidden'))
    .map((element) => element.text.trim())
    .join(' ');
