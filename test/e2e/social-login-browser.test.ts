import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expectAccessible } from '../support/accessibility.js';
import { launchChromium } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { CONSUMERS_TENANT, freePort, ORGANIZATION_TENANT, startStandIns, type StandIns } from '../support/federation-stand-ins.js';
import { createPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import type { OAuthAnswer } from '../support/oauth2-stand-in.js';
import type { NextAnswer } from '../support/oidc-stand-in.js';
import { waitFor } from '../support/wait.js';

type ProviderId = 'google' | 'apple' | 'office365' | 'liveid' | 'acme' | 'facebook' | 'twitter';

const PROVIDERS: { id: ProviderId; name: string; confirmsEmail: boolean }[] = [
  { id: 'google', name: 'Google', confirmsEmail: false },
  { id: 'apple', name: 'Apple', confirmsEmail: false },
  { id: 'office365', name: 'Office 365', confirmsEmail: false },
  { id: 'liveid', name: 'Microsoft account', confirmsEmail: true },
  { id: 'acme', name: 'Acme ID', confirmsEmail: false },
  { id: 'facebook', name: 'Facebook', confirmsEmail: true },
  { id: 'twitter', name: 'X (Twitter)', confirmsEmail: false },
];

let people = 0;

/** Someone new at a provider, in the provider's shape; LiveID and Facebook do not vouch for the email. */
function newcomer(provider: ProviderId, firstName: string): { answer: NextAnswer | OAuthAnswer; email: string } {
  people += 1;
  const id = `${provider}-browser-${people}-${Date.now()}`;
  const email = `${id}@example.test`;
  if (provider === 'facebook' || provider === 'twitter') return { answer: { id, firstName, lastName: 'Browser', email, picture: true }, email };
  const microsoft = provider === 'office365' || provider === 'liveid';
  const extra = microsoft
    ? { tid: provider === 'office365' ? ORGANIZATION_TENANT : CONSUMERS_TENANT, oid: `00000000-0000-4000-9000-${String(people).padStart(12, '0')}`, ...(provider === 'office365' ? { xms_edov: true } : {}) }
    : {};
  return { answer: { sub: id, email, email_verified: provider !== 'liveid', given_name: firstName, family_name: 'Browser', picture: true, extra }, email };
}

/**
 * A person in Chromium with every provider: signs up with it, signs out,
 * signs in with it again; a person with a password connects it on the
 * Social media page and disconnects it. NetID keeps its real cookie
 * settings (SameSite=Lax, the interaction cookie scoped to its sign-in), and
 * Apple's stand-in is another site (localhost against NetID's 127.0.0.1), so
 * its form_post answer is a true cross-site POST.
 */
describe('social login in the browser (postgres)', () => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let standIns: StandIns;
  let browser: Browser;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    const port = await freePort();
    standIns = await startStandIns(port);
    netid = await startNetid(database.db, { port, env: standIns.env });
    netid.context.startDelivery();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await netid?.stop();
    await standIns?.stop();
    await database?.dispose();
  });

  const answerNext = (provider: ProviderId, answer: NextAnswer | OAuthAnswer) => {
    (standIns[provider] as { next: NextAnswer | OAuthAnswer }).next = answer;
  };
  const notice = (page: Page) => page.getByRole('status').first().textContent();

  async function confirmEmail(page: Page, email: string): Promise<void> {
    await page.getByLabel('Code', { exact: true }).waitFor();
    await expectAccessible(page);
    const message = await waitFor('the confirmation code', () => netid.context.devOutbox!.entries().find((entry) => entry.to === email));
    await page.getByLabel('Code', { exact: true }).fill(/\b(\d{6})\b/.exec(message.text)![1]!);
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  }

  async function signOut(page: Page): Promise<void> {
    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('signed out');
  }

  /** A page of Apple's site (another site than NetID's) with a form that posts an answer for the sign-in `uid` to `action`. */
  async function onProviderSite(page: Page, action: string, uid: string): Promise<void> {
    const address = `${standIns.apple.browserOrigin}/answer-form`;
    await page.route(address, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<!DOCTYPE html><title>Apple</title><form method="post" action="${action}"><input name="code" value="x"><input name="state" value="i.${uid}.${'A'.repeat(43)}"><button>Go</button></form>`,
      }),
    );
    await page.goto(address);
  }

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ locale: 'en-US' });
    return { context, page: await context.newPage() };
  }

  test.each(PROVIDERS)('$name: sign up with it, sign out, sign in with it; connect it from the profile page and disconnect it', async ({ id, name, confirmsEmail }) => {
    const { context, page } = await newPage();
    try {
      // Sign up: the sign-in screen offers every configured provider, each a button with its name.
      const { answer, email } = newcomer(id, `Ann${id}`);
      answerNext(id, answer);
      await page.goto(`${netid.issuer}/network`);
      const button = page.getByRole('button', { name: `Continue with ${name}` });
      await expect(button.count()).resolves.toBe(1);
      await expectAccessible(page);
      await button.click();
      if (confirmsEmail) await confirmEmail(page, email);
      await page.waitForURL(`${netid.issuer}/network`);
      await expect(page.locator('#profile-name').textContent()).resolves.toBe(`Ann${id} Browser`);
      const profileId = (await netid.context.queries.profiles.findByIdentifier(email))!.id;

      await signOut(page);
      await page.goto(`${netid.issuer}/network`);
      await page.getByRole('button', { name: `Continue with ${name}` }).click();
      await page.waitForURL(`${netid.issuer}/network`);
      await expect(page.locator('#profile-name').textContent()).resolves.toBe(`Ann${id} Browser`);
      expect((await netid.context.queries.profiles.findByIdentifier(email))!.id).toBe(profileId);
      await signOut(page);

      // Someone with a password connects the provider from the Social media page, then disconnects it.
      const person = await createPerson(netid.context, { firstName: 'Pat', lastName: id });
      await page.goto(`${netid.issuer}/network`);
      await page.getByLabel('Email or phone number').fill(person.email);
      await page.getByLabel('Password').fill(person.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(`${netid.issuer}/network`);
      await page.getByRole('link', { name: 'Social media' }).click();
      await expectAccessible(page);
      answerNext(id, newcomer(id, 'Pat').answer);
      await page.getByRole('button', { name: `Connect ${name}` }).click();
      await page.waitForURL(`${netid.issuer}/network/social?done=done.identity_connected`);
      await expect(notice(page)).resolves.toContain('The service is connected');
      await expect(page.locator(`#provider-${id} .status`).textContent()).resolves.toContain('Connected');
      await expectAccessible(page);
      await page.getByRole('button', { name: `Disconnect ${name}` }).click();
      await expect(notice(page)).resolves.toContain('The service is disconnected');
      await expect(page.getByRole('button', { name: `Connect ${name}` }).count()).resolves.toBe(1);
      expect(await netid.context.services.profiles.listIdentities(person.profile.id)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test('a profile made through a provider is told why it cannot disconnect it, sets a password, then disconnects it', async () => {
    const { context, page } = await newPage();
    try {
      const { answer } = newcomer('google', 'Gwen');
      delete (answer as { email?: string }).email;
      answerNext('google', answer);
      await page.goto(`${netid.issuer}/network`);
      await page.getByRole('button', { name: 'Continue with Google' }).click();
      await page.waitForURL(`${netid.issuer}/network`);
      await page.getByRole('link', { name: 'Social media' }).click();
      await expect(page.locator('#last-google').textContent()).resolves.toContain('This is the only way to sign in to your profile');
      await expect(page.getByRole('button', { name: 'Disconnect Google' }).count()).resolves.toBe(0);
      await expectAccessible(page);
      await page.getByRole('link', { name: 'Set a password' }).click();
      await page.getByLabel('New password').fill('gwen sets her own password');
      await page.getByRole('button', { name: 'Set a password' }).click();
      await expect(notice(page)).resolves.toContain('password is set');
      await page.getByRole('link', { name: 'Social media' }).click();
      await page.getByRole('button', { name: 'Disconnect Google' }).click();
      await expect(notice(page)).resolves.toContain('The service is disconnected');
    } finally {
      await context.close();
    }
  });

  test("Apple's answer, a cross-site POST that carries none of NetID's SameSite=Lax cookies, still reaches the sign-in", async () => {
    const { context, page } = await newPage();
    try {
      const { answer, email } = newcomer('apple', 'Ada');
      answerNext('apple', answer);
      const posts: Promise<{ path: string; cookie: string }>[] = [];
      page.on('request', (request) => {
        if (request.method() === 'POST' && request.url().includes('/apple/callback')) {
          posts.push(request.allHeaders().then((headers) => ({ path: new URL(request.url()).pathname, cookie: headers.cookie ?? '' })));
        }
      });
      await page.goto(`${netid.issuer}/network`);
      const interaction = (await context.cookies()).find((cookie) => cookie.name === 'netid.interaction');
      // NetID's real settings: the sign-in's cookie is SameSite=Lax and scoped to the sign-in's path.
      expect(interaction).toMatchObject({ sameSite: 'Lax', httpOnly: true });
      expect(interaction!.path).toMatch(/^\/interaction\/[A-Za-z0-9_-]+$/);

      await page.getByRole('button', { name: 'Continue with Apple' }).click();
      await page.waitForURL(`${netid.issuer}/network`);
      // The name Apple gives only at the first consent, in the posted `user` field.
      await expect(page.locator('#profile-name').textContent()).resolves.toBe('Ada Browser');
      expect((await netid.context.queries.profiles.findByIdentifier(email))!.email_verified).toBe(true);
      // The provider's page posted to the registered address without NetID's cookies; NetID's own page posted it on with them.
      const [fromApple, fromNetid] = await Promise.all(posts);
      expect(posts).toHaveLength(2);
      expect(fromApple).toEqual({ path: '/federation/apple/callback', cookie: '' });
      expect(fromNetid!.path).toBe(`${new URL(interaction!.path, netid.issuer).pathname}/federation/apple/callback`);
      expect(fromNetid!.cookie).toContain(`netid.interaction=${interaction!.value}`);
    } finally {
      await context.close();
    }
  });

  test('without the page that posts it on, the same cross-site POST would arrive without the sign-in and be refused', async () => {
    const { context, page } = await newPage();
    try {
      await page.goto(`${netid.issuer}/network`);
      const uid = /\/interaction\/([^/?]+)/.exec(page.url())![1]!;
      // A form on the provider's site posting straight into the sign-in, as a callback under /interaction would receive it.
      await onProviderSite(page, `${netid.issuer}/interaction/${uid}/federation/apple/callback`, uid);
      await page.getByRole('button', { name: 'Go' }).click();
      await page.waitForURL(`${netid.issuer}/interaction/${uid}/federation/apple/callback`);
      await expect(page.getByRole('alert').textContent()).resolves.toContain('This sign-in page has expired');
    } finally {
      await context.close();
    }
  });

  test("the page that posts a provider's answer on is usable without scripts and accessible", async () => {
    const { context, page } = await newPage();
    try {
      await page.goto(`${netid.issuer}/network`);
      const uid = /\/interaction\/([^/?]+)/.exec(page.url())![1]!;
      await context.route('**/assets/federation-continue.js', (route) => route.abort());
      await onProviderSite(page, `${netid.issuer}/federation/apple/callback`, uid);
      await page.getByRole('button', { name: 'Go' }).click();
      await page.waitForURL(`${netid.issuer}/federation/apple/callback`);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Continue signing in');
      await expectAccessible(page);
      await page.getByRole('button', { name: 'Continue' }).click();
      // The made-up answer is refused on the sign-in screen, which the sign-in's own cookie reached.
      await page.waitForURL(`${netid.issuer}/interaction/${uid}/federation/apple/callback`);
      await expect(page.getByRole('alert').textContent()).resolves.toContain('does not belong to it');
      await expect(page.getByRole('button', { name: 'Continue with Apple' }).count()).resolves.toBe(1);
      await expectAccessible(page);
    } finally {
      await context.close();
    }
  });
});
