import type { Actor } from '../db/audit.js';
import type { Page, Profile } from '../db/profiles.js';
import type { MessageKey } from '../i18n/messages.js';
import { ok, refuse, type Outcome } from '../outcome.js';
import { passwordProblem } from '../security/password-policy.js';
import { hashPassword } from '../security/passwords.js';
import { checkNames } from './edit-profile.js';
import { normaliseEmail, normalisePhone } from './identifier.js';
import type { ProfileServiceDependencies } from './profile-service.js';
import { PASSWORD_PROBLEM_MESSAGES } from './sign-up.js';

const UNIQUE_VIOLATION = '23505';

export interface NewProfileByOperator {
  email: string;
  phone?: string | undefined;
  password?: string | undefined;
  firstName?: string | undefined;
  lastName?: string | undefined;
}

/**
 * A profile made by an operator: its email (and phone) count as confirmed,
 * since the operator vouches for them; the password, if any, follows the
 * same policy as everyone's.
 */
export async function createProfile(
  deps: ProfileServiceDependencies,
  input: NewProfileByOperator,
  actor: Actor,
): Promise<Outcome<{ profile: Profile }, 'form-invalid' | 'identifier-taken'>> {
  const email = normaliseEmail(input.email);
  const phone = input.phone ? normalisePhone(input.phone, deps.defaultPhoneRegion) : undefined;
  const names = checkNames({ firstName: input.firstName || '-', lastName: input.lastName ?? '' });
  const fields: Partial<Record<string, MessageKey>> = {};
  if (!email) fields.email = 'signup.email_invalid';
  if (input.phone && !phone) fields.phone = 'contacts.phone_invalid';
  if (!names.ok) Object.assign(fields, names.errors);
  const problem = input.password ? passwordProblem(input.password, [email ?? '', phone ?? ''].filter(Boolean)) : undefined;
  if (problem) fields.password = PASSWORD_PROBLEM_MESSAGES[problem];
  if (Object.keys(fields).length || !email) return refuse('form-invalid', { fields });
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  try {
    return await deps.queries.transaction(async (queries) => {
      const profile = await queries.profiles.insert({
        email,
        emailVerified: true,
        phone: phone ?? null,
        phoneVerified: Boolean(phone),
        passwordHash,
        firstName: input.firstName?.trim() ?? '',
        lastName: input.lastName?.trim() ?? '',
      });
      await queries.audit.record({ kind: 'profile.created', profileId: profile.id, actor });
      return ok({ profile });
    });
  } catch (error) {
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) return refuse('identifier-taken');
    throw error;
  }
}

/**
 * Blocks or unblocks a profile. Blocked means no sign-in of any kind, and at
 * the moment of blocking every session, grant and token of it is revoked,
 * with back-channel logout to the accounts those sessions reached.
 */
export async function setBlocked(
  deps: ProfileServiceDependencies,
  profileId: string,
  blocked: boolean,
  actor: Actor,
): Promise<Outcome<{ profile: Profile }, 'profile-not-found'>> {
  return deps.queries.transaction(async (queries) => {
    const profile = await queries.profiles.findByIdForUpdate(profileId);
    if (!profile) return refuse('profile-not-found');
    if (Boolean(profile.blocked_at) !== blocked) {
      await queries.profiles.setBlocked(profileId, blocked);
      if (blocked) {
        const logouts = await queries.sessions.endProfileSessions(profileId);
        queries.afterCommit(() => deps.notifyLogout(logouts));
      }
      await queries.audit.record({ kind: blocked ? 'profile.blocked' : 'profile.unblocked', profileId, actor });
    }
    return ok({ profile: (await queries.profiles.findById(profileId))! });
  });
}

export function searchProfiles(
  deps: ProfileServiceDependencies,
  filter: { text?: string | undefined },
  page: { limit: number; after?: string | undefined },
): Promise<Page<Profile>> {
  return deps.queries.profiles.search({ text: filter.text, phone: filter.text ? phoneSearch(filter.text) : undefined }, page);
}

/**
 * Phones are stored in E.164, so an operator's "+7 (916) 123-45-67", or any
 * part of a number typed with spaces, dashes or brackets, is looked up by its
 * digits (and leading plus) alone.
 */
function phoneSearch(text: string): string | undefined {
  if (!/^[+\d\s().-]+$/.test(text) || !/\d/.test(text)) return undefined;
  return normalisePhone(text) ?? text.replace(/[\s().-]/g, '');
}
