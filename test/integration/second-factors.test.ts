import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generate } from 'otplib';
import { OPERATOR } from '../../src/db/audit.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson, type TestPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';
import { authenticatorApp } from '../support/second-factors.js';
import { softwareAuthenticator } from '../support/software-authenticator.js';

/** The second factors' rules, on each database: what is stored, what is accepted once, what is refused. */
describe.each(backends)('second factors (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  const factors = () => netid.context.services.factors;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  async function setUpApp(person: TestPerson): Promise<ReturnType<typeof authenticatorApp>> {
    const begun = await factors().beginTotp(person.profile);
    if (!begun.ok) throw new Error(begun.problem);
    const app = authenticatorApp(begun.secret);
    expect(await factors().confirmTotp(person.profile.id, await app.nextCode(), OPERATOR)).toEqual({ ok: true });
    return app;
  }

  async function personWithApp(): Promise<{ person: TestPerson; app: ReturnType<typeof authenticatorApp> }> {
    const person = await createPerson(netid.context);
    return { person, app: await setUpApp(person) };
  }

  test('an authenticator app secret is sealed at rest, shown as a QR code and as text, and confirmed by its first code', async () => {
    const person = await createPerson(netid.context);
    const begun = await factors().beginTotp(person.profile);
    if (!begun.ok) throw new Error(begun.problem);
    expect(begun.secret).toMatch(/^[A-Z2-7]{32}$/);
    const setup = await factors().pendingTotp(person.profile);
    expect(setup?.secret).toBe(begun.secret);
    expect(setup?.uri).toContain(`secret=${begun.secret}`);
    expect(Buffer.from(setup!.qrCode.replace(/^data:image\/svg\+xml;base64,/, ''), 'base64').toString()).toContain('<svg');
    const stored = await netid.context.db('profile_totp').where({ profile_id: person.profile.id }).first();
    expect(stored.secret_sealed).not.toContain(begun.secret);
    expect(stored.confirmed_at).toBeNull();
    // Not a second factor until confirmed, and a sign-in code does not confirm it.
    expect(await factors().enrolled(person.profile.id)).toMatchObject({ totp: false });
    const code = await generate({ secret: begun.secret });
    expect(await factors().verifyTotp(person.profile.id, code, OPERATOR)).toMatchObject({ ok: false, problem: 'totp-not-enabled' });
    expect(await factors().confirmTotp(person.profile.id, code, OPERATOR)).toEqual({ ok: true });
    expect(await factors().enrolled(person.profile.id)).toMatchObject({ totp: true });
    // A second set-up is refused while one is on.
    expect(await factors().beginTotp(person.profile)).toMatchObject({ ok: false, problem: 'totp-already-enabled' });
  });

  test('a code is accepted once, and a code of an earlier step after a later one is refused', async () => {
    const { person, app } = await personWithApp();
    const earlier = await generate({ secret: app.secret, epoch: Math.floor(Date.now() / 1000) - 30 });
    const code = await app.nextCode();
    expect(await factors().verifyTotp(person.profile.id, code, OPERATOR)).toEqual({ ok: true });
    expect(await factors().verifyTotp(person.profile.id, code, OPERATOR)).toMatchObject({ ok: false, problem: 'second-factor-wrong' });
    expect(await factors().verifyTotp(person.profile.id, earlier, OPERATOR)).toMatchObject({ ok: false, problem: 'second-factor-wrong' });
    expect(await factors().verifyTotp(person.profile.id, '12 34', OPERATOR)).toMatchObject({ ok: false, problem: 'code-format' });
    // Two requests racing with one fresh code: exactly one is accepted.
    const fresh = await app.nextCode();
    const raced = await Promise.all([factors().verifyTotp(person.profile.id, fresh, OPERATOR), factors().verifyTotp(person.profile.id, fresh, OPERATOR)]);
    expect(raced.filter((result) => result.ok)).toHaveLength(1);
  });

  test('wrong codes are slowed after five, and a right one is refused while the wait lasts', async () => {
    const { person, app } = await personWithApp();
    for (let i = 0; i < 5; i++) expect(await factors().verifyTotp(person.profile.id, '000000', OPERATOR)).toMatchObject({ problem: 'second-factor-wrong' });
    const refused = await factors().verifyTotp(person.profile.id, await app.nextCode(), OPERATOR);
    expect(refused).toMatchObject({ ok: false, problem: 'second-factor-throttled' });
    expect(refused.ok === false && refused.retryAfterSeconds).toBeGreaterThan(20);
    const failures = await netid.context.db('audit_events').where({ kind: 'signin.second_factor_failed', profile_id: person.profile.id });
    expect(failures).toHaveLength(5);
  });

  test('ten recovery codes, each usable once, stored as hashes; new ones void the old', async () => {
    const person = await createPerson(netid.context);
    const { codes } = await factors().generateRecoveryCodes(person.profile.id, OPERATOR);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    const stored = await netid.context.db('profile_recovery_codes').where({ profile_id: person.profile.id }).pluck('code_hash');
    expect(stored.some((hash: string) => codes.some((code) => hash.includes(code.replace('-', ''))))).toBe(false);
    expect(await factors().useRecoveryCode(person.profile.id, codes[3]!.replace('-', ' '), OPERATOR)).toEqual({ ok: true, remaining: 9 });
    expect(await factors().useRecoveryCode(person.profile.id, codes[3]!, OPERATOR)).toMatchObject({ ok: false, problem: 'second-factor-wrong' });
    const renewed = await factors().generateRecoveryCodes(person.profile.id, OPERATOR);
    expect(await factors().useRecoveryCode(person.profile.id, codes[4]!, OPERATOR)).toMatchObject({ ok: false, problem: 'second-factor-wrong' });
    expect(await factors().useRecoveryCode(person.profile.id, renewed.codes[0]!, OPERATOR)).toEqual({ ok: true, remaining: 9 });
    // Recovery codes stand in for a second factor; they are not one.
    expect(await factors().enrolled(person.profile.id)).toEqual({ totp: false, passkeys: 0, recoveryCodes: 9 });
  });

  test('passkeys: several, named, each signing once per count; a passkey alone proves two factors only when it verified the person', async () => {
    const person = await createPerson(netid.context);
    const laptop = softwareAuthenticator(netid.issuer);
    const phone = softwareAuthenticator(netid.issuer, { synced: true });
    for (const [authenticator, name] of [[laptop, 'Laptop'], [phone, 'Phone']] as const) {
      const { options, challenge } = await factors().passkeyRegistrationOptions(person.profile);
      expect(options.rp.id).toBe(new URL(netid.issuer).hostname);
      expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required' });
      const registered = await factors().registerPasskey(person.profile, { response: authenticator.register(challenge), challenge, name }, OPERATOR);
      expect(registered).toMatchObject({ ok: true, passkey: { name } });
    }
    expect((await factors().listPasskeys(person.profile.id)).map((passkey) => [passkey.name, passkey.device_type])).toEqual([
      ['Laptop', 'singleDevice'],
      ['Phone', 'multiDevice'],
    ]);
    // The same authenticator cannot be added twice, nor with a made-up name or another challenge.
    const again = await factors().passkeyRegistrationOptions(person.profile);
    expect(again.options.excludeCredentials?.map((credential) => credential.id).sort()).toEqual([laptop.credentialId, phone.credentialId].sort());
    expect(await factors().registerPasskey(person.profile, { response: laptop.register(again.challenge), challenge: again.challenge, name: 'Again' }, OPERATOR)).toMatchObject({ ok: false });
    expect(await factors().registerPasskey(person.profile, { response: softwareAuthenticator(netid.issuer).register('other'), challenge: again.challenge, name: 'X' }, OPERATOR)).toMatchObject({ ok: false, problem: 'passkey-invalid' });
    expect(await factors().registerPasskey(person.profile, { response: '{}', challenge: again.challenge, name: ' ' }, OPERATOR)).toMatchObject({ ok: false, problem: 'passkey-name-invalid' });

    // Without a password: any discoverable passkey, which must verify the person.
    const alone = await factors().passkeyAuthenticationOptions();
    expect(alone.options.allowCredentials).toEqual([]);
    const signedIn = await factors().authenticatePasskey({ response: phone.authenticate(alone.challenge), challenge: alone.challenge }, OPERATOR);
    expect(signedIn).toMatchObject({ ok: true, profile: { id: person.profile.id }, amr: ['swk', 'user', 'mfa'] });
    const unverified = await factors().passkeyAuthenticationOptions();
    expect(await factors().authenticatePasskey({ response: laptop.authenticate(unverified.challenge, { userVerified: false }), challenge: unverified.challenge }, OPERATOR)).toMatchObject({
      ok: false,
    });

    // After the password: only this profile's passkeys, presence enough.
    const second = await factors().passkeyAuthenticationOptions(person.profile.id);
    expect(second.options.allowCredentials).toHaveLength(2);
    const answer = laptop.authenticate(second.challenge, { userVerified: false });
    expect(await factors().authenticatePasskey({ response: answer, challenge: second.challenge, profileId: person.profile.id }, OPERATOR)).toMatchObject({ ok: true, amr: ['hwk', 'user'] });
    // The same signed answer again: its count did not move on.
    expect(await factors().authenticatePasskey({ response: answer, challenge: second.challenge, profileId: person.profile.id }, OPERATOR)).toMatchObject({ ok: false });
    const stranger = await createPerson(netid.context);
    const theirs = await factors().passkeyAuthenticationOptions(stranger.profile.id);
    expect(await factors().authenticatePasskey({ response: laptop.authenticate(theirs.challenge), challenge: theirs.challenge, profileId: stranger.profile.id }, OPERATOR)).toMatchObject({ ok: false });

    const [first] = await factors().listPasskeys(person.profile.id);
    expect(await factors().renamePasskey(person.profile.id, first!.id, 'Work laptop', OPERATOR)).toEqual({ ok: true });
    expect(await factors().renamePasskey(stranger.profile.id, first!.id, 'Mine now', OPERATOR)).toMatchObject({ ok: false, problem: 'passkey-not-found' });
    expect(await factors().removePasskey(person.profile.id, 'not-an-id', OPERATOR)).toMatchObject({ ok: false, problem: 'passkey-not-found' });
    expect(await factors().removePasskey(person.profile.id, first!.id, OPERATOR)).toEqual({ ok: true });
    expect(await factors().enrolled(person.profile.id)).toMatchObject({ passkeys: 1 });
  });

  test('turning the authenticator app off needs it on, and deleting the profile removes every factor', async () => {
    const { person } = await personWithApp();
    await factors().generateRecoveryCodes(person.profile.id, OPERATOR);
    expect(await factors().removeTotp(person.profile.id, OPERATOR)).toEqual({ ok: true });
    expect(await factors().removeTotp(person.profile.id, OPERATOR)).toMatchObject({ ok: false, problem: 'totp-not-enabled' });
    await netid.context.queries.profiles.delete(person.profile.id);
    expect(await netid.context.db('profile_recovery_codes').where({ profile_id: person.profile.id })).toHaveLength(0);
  });

  test('recovery codes stay while a second factor remains, and go with the last one, so none comes back with the next', async () => {
    const { person } = await personWithApp();
    const laptop = softwareAuthenticator(netid.issuer);
    const { challenge } = await factors().passkeyRegistrationOptions(person.profile);
    const registered = await factors().registerPasskey(person.profile, { response: laptop.register(challenge), challenge, name: 'Laptop' }, OPERATOR);
    if (!registered.ok) throw new Error(registered.problem);
    const { codes } = await factors().generateRecoveryCodes(person.profile.id, OPERATOR);

    expect(await factors().removeTotp(person.profile.id, OPERATOR)).toEqual({ ok: true });
    expect(await factors().enrolled(person.profile.id)).toEqual({ totp: false, passkeys: 1, recoveryCodes: 10 });
    expect(await factors().removePasskey(person.profile.id, registered.passkey.id, OPERATOR)).toEqual({ ok: true });
    expect(await factors().enrolled(person.profile.id)).toEqual({ totp: false, passkeys: 0, recoveryCodes: 0 });

    await setUpApp(person);
    expect(await factors().useRecoveryCode(person.profile.id, codes[0]!, OPERATOR)).toMatchObject({ ok: false, problem: 'second-factor-wrong' });
  });
});
