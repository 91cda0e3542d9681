import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { en } from '../../src/i18n/en.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, createTestAccount, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { alertText, signInToNetwork } from '../support/network.js';
import { isPage, UserAgent, type Page } from '../support/user-agent.js';

/**
 * Bad input on every network-profile form: the person sees what is wrong next
 * to what they typed, with a 4xx status, and nothing is stored half-way.
 */
describe.each(backends)('bad input on the network-profile forms (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  let person: TestPerson;
  let accountName: string;
  let agent: UserAgent;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
    person = await createPerson(netid.context, { firstName: 'Bea', lastName: 'Bad' });
    accountName = (await createTestAccount(netid.context, person)).account.name;
    agent = new UserAgent(netid.issuer);
    await signInToNetwork(agent, person.email, person.password);
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  /** Everything a form could change, to compare before and after. */
  async function snapshot() {
    const { db } = netid.context;
    return {
      profile: await db('profiles').where({ id: person.profile.id }).first(),
      memberships: await db('memberships').where({ profile_id: person.profile.id }).orderBy('account_id'),
      accounts: await db('accounts').orderBy('id'),
      clients: await db('clients').orderBy('client_id').select('client_id', 'metadata'),
      photos: await db('photos').count({ n: '*' }),
    };
  }

  async function post(path: string, selector: string, fields: Record<string, string>): Promise<Page> {
    const page = await agent.page(path);
    const result = await agent.submit(page, selector, fields);
    if (!isPage(result)) throw new Error(`left NetID for ${result.location.toString()}`);
    return result;
  }

  const inputValue = (page: Page, name: string) => page.document.querySelector(`input[name="${name}"]`)?.getAttribute('value');

  test.each([
    ['an empty first name', { first_name: '  ', last_name: 'Kept' }, 'Enter your first name', 'last_name', 'Kept'],
    ['a name over 100 characters', { first_name: 'B'.repeat(101), last_name: 'Kept' }, 'at most', 'last_name', 'Kept'],
    ['a NUL byte in a name', { first_name: 'x\u0000', last_name: 'Kept' }, 'control characters', 'last_name', 'Kept'],
    ['a line break in a name', { first_name: 'Kept', last_name: 'two\nlines' }, 'control characters', 'first_name', 'Kept'],
  ])('edit profile with %s', async (_case, fields, message, keptField, keptValue) => {
    const before = await snapshot();
    const page = await post('/network/profile', 'form[action="/network/profile"]', { ...fields, propagate: 'on' });
    expect(page.status).toBe(400);
    expect(alertText(page)).toContain(message);
    expect(inputValue(page, keptField)).toBe(keptValue);
    expect(page.document.querySelector('input[aria-invalid=true]')).not.toBeNull();
    expect(await snapshot()).toEqual(before);
  });

  test.each([
    ['too short', 'ab', 'from 3 to 50 characters'],
    ['with other characters', 'my_company!', 'lower-case letters, digits and hyphens'],
    ['with a leading hyphen', '-company', 'hyphen cannot come first'],
    ['reserved', 'admin', 'reserved'],
    ['looking generated', 'b24-abcdefgh', 'reserved'],
  ])('rename to a name %s', async (_case, name, message) => {
    const before = await snapshot();
    const page = await post(`/network/accounts/${accountName}/rename`, 'form[action$="/rename"]', { name });
    expect(page.status).toBe(400);
    expect(alertText(page)).toContain(message);
    expect(inputValue(page, 'name')).toBe(name);
    expect(await snapshot()).toEqual(before);
  });

  test('rename to a name another account has', async () => {
    const other = await createTestAccount(netid.context, await createPerson(netid.context));
    const before = await snapshot();
    const page = await post(`/network/accounts/${accountName}/rename`, 'form[action$="/rename"]', { name: other.account.name.toUpperCase() });
    // Generated names are reserved, so the clash shows as such; a renamed one shows as taken.
    expect(alertText(page)).toMatch(/reserved|Another Bitrix24 account/);
    expect(await snapshot()).toEqual(before);
  });

  test.each([
    ['phone', 'call me maybe', 'country code'],
    ['phone', '+1 555', 'country code'],
    ['email', 'not-an-address', 'name@example.com'],
    ['email', 'a\u0000b@example.test', 'name@example.com'],
    ['email', '<b>x</b>@example.test', 'name@example.com'],
    ['phone', '+1 415\u0000 555 2671', 'country code'],
  ])('connect a %s with %j', async (kind, value, message) => {
    const before = await snapshot();
    const page = await post(`/network/${kind}`, `form[action="/network/${kind}"]`, { value, propagate: 'on' });
    expect(page.status).toBe(400);
    expect(alertText(page)).toContain(message);
    expect(inputValue(page, 'value')).toBe(value.replaceAll('\u0000', '\ufffd'));
    expect(await netid.context.db('one_time_codes').where({ profile_id: person.profile.id })).toHaveLength(0);
    expect(await snapshot()).toEqual(before);
  });

  test('a code in the wrong shape, a wrong code, and five wrong codes', async () => {
    const before = await snapshot();
    const asked = await post('/network/email', 'form[action="/network/email"]', { value: 'second@example.test', propagate: 'on' });
    expect(asked.document.querySelector('form[action="/network/email/confirm"]')).not.toBeNull();
    const shape = await post('/network/email', 'form[action="/network/email/confirm"]', { code: '12ab' });
    expect(shape.status).toBe(400);
    expect(alertText(shape)).toContain('6 digits');
    let page = shape;
    for (let i = 0; i < 5; i++) page = await post('/network/email', 'form[action="/network/email/confirm"]', { code: '000000' });
    expect(alertText(page)).toMatch(/Too many wrong tries|not right/);
    const after = await post('/network/email', 'form[action="/network/email/confirm"]', { code: '000000' });
    expect(alertText(after)).toMatch(/Too many wrong tries|expired/);
    expect(await snapshot()).toEqual(before);
  });

  test.each([
    ['a short new password', { current_password: 'x', new_password: 'short' }, /current password|at least 8/],
    ['no current password', { current_password: '', new_password: 'a long enough passphrase' }, /Enter your current password/],
  ])('change password with %s', async (_case, fields, message) => {
    const before = await snapshot();
    const page = await post('/network/password', 'form[action="/network/password"]', fields);
    expect(page.status).toBe(400);
    expect(alertText(page)).toMatch(message);
    expect(await snapshot()).toEqual(before);
  });

  test.each([
    ['its own email', () => person.email],
    ['its own email name with a digit', () => `${person.email.split('@')[0]}1`],
    ['the name of the service', () => 'Bitrix24-NetID!'],
  ])('a new password made of %s, with the right current one', async (_case, password) => {
    const before = await snapshot();
    const page = await post('/network/password', 'form[action="/network/password"]', { current_password: person.password, new_password: password() });
    expect(page.status).toBe(400);
    expect(alertText(page)).toContain(en['password.context_words']);
    expect(await snapshot()).toEqual(before);
  });

  test('a new password that is too short, with the right current one', async () => {
    const before = await snapshot();
    const page = await post('/network/password', 'form[action="/network/password"]', { current_password: person.password, new_password: 'short' });
    expect(alertText(page)).toContain('at least 8 characters');
    expect(await snapshot()).toEqual(before);
  });

  test('a photo that is too large or missing', async () => {
    const before = await snapshot();
    const page = await agent.page('/network/profile');
    const csrf = page.document.querySelector('form[action="/network/profile/photo"] input[name=csrf]')!.getAttribute('value')!;
    const upload = async (file?: Buffer) => {
      const body = new FormData();
      body.set('csrf', csrf);
      if (file) body.set('photo', new Blob([new Uint8Array(file)], { type: 'image/jpeg' }), 'big.jpg');
      const response = await fetch(`${netid.issuer}/network/profile/photo`, {
        method: 'POST',
        body,
        redirect: 'manual',
        headers: { cookie: await agent.jar.getCookieString(netid.issuer), accept: 'text/html' },
      });
      return { status: response.status, html: await response.text() };
    };
    const big = await upload(Buffer.alloc(6 * 1024 * 1024, 0xff));
    expect(big.status).toBe(413);
    expect(big.html).toContain('larger than 5 MB');
    const none = await upload();
    expect(none.status).toBe(400);
    expect(none.html).toContain('Choose a photo to upload');
    expect(await snapshot()).toEqual(before);
  });

  test('a form too long to read sends the person back to it with a message, and changes nothing', async () => {
    const before = await snapshot();
    const page = await agent.page('/network/profile');
    const result = await agent.submit(page, 'form[action="/network/profile"]', { first_name: 'F'.repeat(40_000), last_name: 'L'.repeat(40_000) });
    if (!isPage(result)) throw new Error('left NetID');
    expect(result.url).toBe(`${netid.issuer}/network/profile?problem=problem.form_too_large`);
    expect(result.status).toBe(200);
    expect(alertText(result)).toContain('too long to read');
    expect(result.document.querySelector('form[action="/network/profile"]')).not.toBeNull();
    expect(await snapshot()).toEqual(before);
  });

  test('two long fields that still fit are answered field by field, keeping what can be kept', async () => {
    const before = await snapshot();
    const page = await post('/network/profile', 'form[action="/network/profile"]', { first_name: 'F'.repeat(9_000), last_name: 'L'.repeat(9_000) });
    expect(page.status).toBe(400);
    expect(alertText(page)).toContain('at most');
    expect(await snapshot()).toEqual(before);
  });

  test('a form without its CSRF token changes nothing', async () => {
    const before = await snapshot();
    for (const [path, form] of [
      ['/network/profile', { first_name: 'Forged', last_name: 'Name', propagate: 'on' }],
      [`/network/accounts/${accountName}/rename`, { name: 'forged-name' }],
      ['/network/accounts', {}],
      ['/network/password', { current_password: person.password, new_password: 'forged pass phrase' }],
      ['/network/delete', { password: person.password }],
    ] as const) {
      const result = await agent.page(path, { form: { ...form, csrf: 'forged' } });
      expect(result.status).toBe(403);
      expect(result.html).toContain('could not be accepted');
    }
    expect(await snapshot()).toEqual(before);
  });

  test('an account the profile is not in answers with a page, not an error', async () => {
    const stranger = await createTestAccount(netid.context, await createPerson(netid.context));
    expect((await agent.page(`/network/accounts/${stranger.account.name}/rename`)).status).toBe(404);
    expect((await agent.page('/network/accounts/no-such-account/rename')).status).toBe(404);
  });
});

describe.each(backends)('bad input at sign-up (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  test.each([
    ['no first name', { first_name: '', last_name: 'L', email: 'new1@example.test', password: 'a good long passphrase' }, 'Enter your first name'],
    ['an email without a domain', { first_name: 'F', last_name: 'L', email: 'new2@', password: 'a good long passphrase' }, 'name@example.com'],
    ['a short password', { first_name: 'F', last_name: 'L', email: 'new3@example.test', password: 'short' }, 'at least 8 characters'],
    ['a common password', { first_name: 'F', last_name: 'L', email: 'new4@example.test', password: 'iloveyou' }, 'most common'],
    ['markup in the email', { first_name: 'F', last_name: 'L', email: '<b>x</b>@example.test', password: 'a good long passphrase' }, 'name@example.com'],
    ['a NUL byte in the first name', { first_name: 'x\u0000', last_name: 'L', email: 'new5@example.test', password: 'a good long passphrase' }, 'control characters'],
    ['a NUL byte in the email', { first_name: 'F', last_name: 'L', email: 'a\u0000b@netid.test', password: 'a good long passphrase' }, 'name@example.com'],
    ['the email as password', { first_name: 'F', last_name: 'L', email: 'new7@example.test', password: 'New7@Example.test' }, en['password.context_words']],
    ['the service as password', { first_name: 'F', last_name: 'L', email: 'new8@example.test', password: 'bitrix24.network' }, en['password.context_words']],
  ])('sign-up with %s keeps the form and creates nothing', async (_case, fields, message) => {
    const agent = new UserAgent(netid.issuer);
    const form = await agent.page('/network/sign-up');
    expect(form.document.querySelector('input[name=password]')?.getAttribute('autocomplete')).toBe('new-password');
    const count = async () => ({
      profiles: await netid.context.queries.profiles.count(),
      accounts: (await netid.context.db('accounts').pluck('id')).length,
      outbox: (await netid.context.db('outbox').pluck('id')).length,
    });
    const before = await count();
    const result = await agent.submit(form, 'form[action$="/signup"]', fields);
    if (!isPage(result)) throw new Error('left NetID');
    expect(result.status).toBe(400);
    expect(alertText(result)).toContain(message);
    expect(result.document.querySelector('input[name=email]')?.getAttribute('value')).toBe(fields.email.replaceAll('\u0000', '\ufffd'));
    expect(result.document.querySelector('input[name=password]')?.getAttribute('value') ?? '').toBe('');
    expect(await count()).toEqual(before);
  });
});
