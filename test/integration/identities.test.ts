import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Actor } from '../../src/db/audit.js';
import type { UpstreamIdentity } from '../../src/federation/provider.js';
import type { IdentitySignInRequest } from '../../src/profile/identities.js';
import { hashPassword } from '../../src/security/passwords.js';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createPerson } from '../support/fixtures.js';
import { startNetid, type RunningNetid } from '../support/netid-server.js';

const actor: Actor = { kind: 'profile', ip: '192.0.2.7', userAgent: 'jest' };
let subjects = 0;

/** Someone a provider vouches for, new each time unless told otherwise. */
function upstream(overrides: Partial<UpstreamIdentity> = {}): UpstreamIdentity {
  subjects += 1;
  return {
    provider: 'google',
    issuer: 'https://accounts.google.com',
    subject: `subject-${subjects}-${Date.now()}`,
    emailVerified: false,
    names: { first: 'Gina', last: 'Upstream' },
    ...overrides,
  };
}

const request = (overrides: Partial<IdentitySignInRequest> = {}): IdentitySignInRequest => ({
  locale: 'en',
  actor,
  invited: false,
  admitSignUp: async () => ({ admitted: true }),
  ...overrides,
});

describe.each(backends)('the rules of identities (%s)', (backend) => {
  let database: TestDatabase;
  let netid: RunningNetid;
  const profiles = () => netid.context.services.profiles;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    netid = await startNetid(database.db);
  });

  afterAll(async () => {
    await netid?.stop();
    await database?.dispose();
  });

  test('an unknown identity signs up a profile with its names, a confirmed email only when the provider says so, and an account', async () => {
    const verified = upstream({ email: `verified.${subjects}@example.test`, emailVerified: true });
    const signedUp = await profiles().signInWithIdentity(verified, request());
    expect(signedUp).toMatchObject({ ok: true, outcome: 'signed-up', profile: { first_name: 'Gina', last_name: 'Upstream', email: verified.email, email_verified: true, password_hash: null } });
    if (!signedUp.ok || signedUp.outcome !== 'signed-up') return;
    expect(await profiles().connectedAccounts(signedUp.profile.id)).toHaveLength(1);

    const unverified = upstream({ email: `unverified.${subjects}@example.test`, emailVerified: false });
    const second = await profiles().signInWithIdentity(unverified, request());
    expect(second).toMatchObject({ ok: true, outcome: 'signed-up', profile: { email: unverified.email, email_verified: false } });

    const withoutEmail = await profiles().signInWithIdentity(upstream(), request());
    expect(withoutEmail).toMatchObject({ ok: true, outcome: 'signed-up', profile: { email: null, email_verified: false } });
  });

  test('a known identity signs in to its profile and keeps what the provider said last', async () => {
    const person = upstream({ email: `known.${subjects}@example.test`, emailVerified: true });
    const first = await profiles().signInWithIdentity(person, request());
    const again = await profiles().signInWithIdentity({ ...person, names: { first: 'Georgina', last: 'Upstream' } }, request());
    expect(again).toMatchObject({ ok: true, outcome: 'signed-in' });
    if (!first.ok || !again.ok || first.outcome === 'email-taken' || again.outcome === 'email-taken') return;
    expect(again.profile.id).toBe(first.profile.id);
    const [identity] = await profiles().listIdentities(first.profile.id);
    expect(identity).toMatchObject({ provider: 'google', issuer: person.issuer, subject: person.subject, first_name: 'Georgina', email: person.email, email_verified: true });
    expect(identity!.last_used_at).toBeInstanceOf(Date);
  });

  test('the same subject at another issuer is another identity', async () => {
    const person = upstream();
    const first = await profiles().signInWithIdentity(person, request());
    const other = await profiles().signInWithIdentity({ ...person, issuer: 'https://login.microsoftonline.com/another/v2.0' }, request());
    expect(first).toMatchObject({ ok: true, outcome: 'signed-up' });
    expect(other).toMatchObject({ ok: true, outcome: 'signed-up' });
  });

  test('an email the provider vouches for that belongs to a profile is refused: nothing linked, nobody signed in', async () => {
    const owner = await createPerson(netid.context);
    const before = await netid.context.queries.profiles.count();
    const result = await profiles().signInWithIdentity(upstream({ email: owner.email.toUpperCase(), emailVerified: true }), request());
    expect(result).toMatchObject({ ok: false, problem: 'identity-email-taken' });
    expect(await profiles().listIdentities(owner.profile.id)).toEqual([]);
    expect(await netid.context.queries.profiles.count()).toBe(before);
  });

  test('an email the provider does not vouch for that belongs to a profile creates nothing and tells only the owner', async () => {
    const owner = await createPerson(netid.context);
    const before = await netid.context.queries.profiles.count();
    const result = await profiles().signInWithIdentity(upstream({ email: owner.email, emailVerified: false }), request());
    expect(result).toEqual({ ok: true, outcome: 'email-taken', email: owner.email });
    expect(await profiles().listIdentities(owner.profile.id)).toEqual([]);
    expect(await netid.context.queries.profiles.count()).toBe(before);
    const notice = await netid.context.db('outbox').where({ recipient: owner.email, template: 'existing-profile' }).first();
    expect(notice).toBeDefined();
  });

  test('a sign-up refused by the limit creates nothing', async () => {
    const before = await netid.context.queries.profiles.count();
    const result = await profiles().signInWithIdentity(upstream(), request({ admitSignUp: async () => ({ admitted: false, retryAfterSeconds: 60 }) }));
    expect(result).toMatchObject({ ok: false, problem: 'sign-up-throttled', retryAfterSeconds: 60 });
    expect(await netid.context.queries.profiles.count()).toBe(before);
  });

  test('the same new identity arriving twice at once makes one profile', async () => {
    const person = upstream({ email: `twice.${subjects}@example.test`, emailVerified: true });
    const [a, b] = await Promise.all([profiles().signInWithIdentity(person, request()), profiles().signInWithIdentity(person, request())]);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok || a.outcome === 'email-taken' || b.outcome === 'email-taken') return;
    expect(new Set([a.outcome, b.outcome])).toEqual(new Set(['signed-up', 'signed-in']));
    expect(a.profile.id).toBe(b.profile.id);
  });

  test('connects an identity to a signed-in profile, once per provider, and refuses one that belongs to another profile', async () => {
    const person = await createPerson(netid.context);
    const stranger = await createPerson(netid.context);
    const theirs = upstream();
    expect(await profiles().connectIdentity(stranger.profile.id, theirs, actor)).toMatchObject({ ok: true, already: false });

    expect(await profiles().connectIdentity(person.profile.id, theirs, actor)).toMatchObject({ ok: false, problem: 'identity-taken' });
    expect((await profiles().listIdentities(stranger.profile.id)).map((i) => i.subject)).toEqual([theirs.subject]);

    const mine = upstream();
    expect(await profiles().connectIdentity(person.profile.id, mine, actor)).toMatchObject({ ok: true, already: false });
    expect(await profiles().connectIdentity(person.profile.id, mine, actor)).toMatchObject({ ok: true, already: true });
    expect(await profiles().connectIdentity(person.profile.id, upstream(), actor)).toMatchObject({ ok: false, problem: 'identity-provider-connected' });
    expect(await profiles().connectIdentity(person.profile.id, upstream({ provider: 'facebook', issuer: 'https://www.facebook.com' }), actor)).toMatchObject({ ok: true });
    expect(await profiles().listIdentities(person.profile.id)).toHaveLength(2);
  });

  test('the last sign-in method cannot be disconnected; with a password it can', async () => {
    const signedUp = await profiles().signInWithIdentity(upstream({ email: `last.${subjects}@example.test`, emailVerified: false }), request());
    if (!signedUp.ok || signedUp.outcome !== 'signed-up') throw new Error('no profile');
    const profile = signedUp.profile;
    const [identity] = await profiles().listIdentities(profile.id);
    expect(profiles().lastSignInMethod(profile, [identity!])?.id).toBe(identity!.id);
    expect(await profiles().disconnectIdentity(profile.id, identity!.id, actor)).toEqual({ ok: false, problem: 'last-sign-in-method' });
    expect(await profiles().listIdentities(profile.id)).toHaveLength(1);

    await netid.context.queries.profiles.setPasswordHash(profile.id, await hashPassword('a password of her own'));
    const withPassword = (await netid.context.queries.profiles.findById(profile.id))!;
    expect(profiles().lastSignInMethod(withPassword, [identity!])).toBeUndefined();
    expect(await profiles().disconnectIdentity(profile.id, identity!.id, actor)).toMatchObject({ ok: true, identity: { id: identity!.id } });
    expect(await profiles().listIdentities(profile.id)).toEqual([]);
  });

  test('a confirmed email or phone, or a second identity, is another way in', async () => {
    const signedUp = await profiles().signInWithIdentity(upstream(), request());
    if (!signedUp.ok || signedUp.outcome !== 'signed-up') throw new Error('no profile');
    const [identity] = await profiles().listIdentities(signedUp.profile.id);
    const bare = signedUp.profile;
    expect(profiles().lastSignInMethod(bare, [identity!])).toBeDefined();
    expect(profiles().lastSignInMethod({ ...bare, email: 'x@example.test', email_verified: false }, [identity!])).toBeDefined();
    expect(profiles().lastSignInMethod({ ...bare, email: 'x@example.test', email_verified: true }, [identity!])).toBeUndefined();
    expect(profiles().lastSignInMethod({ ...bare, phone: '+442079460000', phone_verified: true }, [identity!])).toBeUndefined();
    await profiles().connectIdentity(bare.id, upstream({ provider: 'twitter', issuer: 'https://x.com' }), actor);
    const both = await profiles().listIdentities(bare.id);
    expect(profiles().lastSignInMethod(bare, both)).toBeUndefined();
    expect(await profiles().disconnectIdentity(bare.id, identity!.id, actor)).toMatchObject({ ok: true });
    const [left] = await profiles().listIdentities(bare.id);
    expect(await profiles().disconnectIdentity(bare.id, left!.id, actor)).toEqual({ ok: false, problem: 'last-sign-in-method' });
  });

  test('another profile\'s identity cannot be disconnected by id', async () => {
    const owner = await createPerson(netid.context);
    const other = await createPerson(netid.context);
    await profiles().connectIdentity(owner.profile.id, upstream(), actor);
    const [identity] = await profiles().listIdentities(owner.profile.id);
    expect(await profiles().disconnectIdentity(other.profile.id, identity!.id, actor)).toEqual({ ok: false, problem: 'identity-not-found' });
    expect(await profiles().disconnectIdentity(other.profile.id, 'not-a-uuid', actor)).toEqual({ ok: false, problem: 'identity-not-found' });
    expect(await profiles().listIdentities(owner.profile.id)).toHaveLength(1);
  });

  test('a blocked profile does not sign in with its identity', async () => {
    const person = upstream();
    const signedUp = await profiles().signInWithIdentity(person, request());
    if (!signedUp.ok || signedUp.outcome !== 'signed-up') throw new Error('no profile');
    await netid.context.queries.profiles.setBlocked(signedUp.profile.id, true);
    expect(await profiles().signInWithIdentity(person, request())).toEqual({ ok: false, problem: 'profile-blocked' });
  });

  test('deleting the profile deletes its identities, and the identity then signs up anew', async () => {
    const person = upstream();
    const signedUp = await profiles().signInWithIdentity(person, request());
    if (!signedUp.ok || signedUp.outcome !== 'signed-up') throw new Error('no profile');
    await netid.context.queries.profiles.delete(signedUp.profile.id);
    const again = await profiles().signInWithIdentity(person, request());
    expect(again).toMatchObject({ ok: true, outcome: 'signed-up' });
  });
});
