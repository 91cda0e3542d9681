import type { BackchannelLogout } from '../oidc/backchannel-logout.js';
import type { AccountService } from '../accounts/account-service.js';
import type { MembershipService } from '../accounts/membership-service.js';
import type { Queries } from '../db/queries.js';
import type { Metrics } from '../operations/metrics.js';
import { ok, refuse, type Outcome, type ProblemTable } from '../outcome.js';
import type { AttemptCounter, SignInLimits } from '../security/rate-limits.js';
import type { Actor } from '../db/audit.js';
import type { Identity } from '../db/identities.js';
import type { Profile } from '../db/profiles.js';
import type { PhotoDownload } from '../federation/photo-download.js';
import type { UpstreamIdentity } from '../federation/provider.js';
import { changePassword, type PasswordCheck } from './change-password.js';
import { confirmEmail, sendEmailConfirmation } from './confirm-email.js';
import { confirmContact, pendingContact, requestContactCode, type ContactKind } from './contacts.js';
import { connectedAccounts, deleteProfile } from './delete-profile.js';
import { updateProfileNames, type NamesInput } from './edit-profile.js';
import { createProfile, searchProfiles, setBlocked, type NewProfileByOperator } from './operator-profiles.js';
import { connectIdentity, disconnectIdentity, signInWithIdentity, type IdentitySignInRequest } from './identities.js';
import { setProfilePhoto } from './profile-photo.js';
import { requestRecoveryCode, resetPassword } from './recover-access.js';
import { signInWithPassword } from './sign-in.js';
import { lastSignInMethod } from './sign-in-methods.js';
import { signUp, type SignUpInput } from './sign-up.js';

/** What the profile's rules are built from; wired once in src/context.ts. */
export interface ProfileServiceDependencies {
  queries: Queries;
  /** Tells the accounts whose sessions a change ended, once it has committed (notifyBackchannelLogout). */
  notifyLogout(logouts: readonly BackchannelLogout[]): void;
  /** Asks the delivery worker to send now rather than at its next poll. */
  wakeDelivery(): void;
  defaultPhoneRegion: string | undefined;
  accounts: AccountService;
  memberships: MembershipService;
  /** Checks the current password before something irreversible, with its own limit on guesses. */
  checkCurrent: PasswordCheck;
  /** Notices to owners of emails someone tried to sign up with (createExistingProfileNotices). */
  notices: AttemptCounter;
  /** Failed sign-ins, per identifier and address. */
  limits: SignInLimits;
  /** Sign-in outcomes and refusals are counted for /metrics. */
  metrics: Pick<Metrics, 'signIns' | 'rateLimitRefusals'>;
  /** Fetches the photo a provider named for a profile signing up through it, or gives up (src/federation/photo-download.ts). */
  downloadPhoto: PhotoDownload;
}

export type ProfileProblem =
  | 'profile-not-found'
  | 'form-invalid'
  | 'code-format'
  | 'code-wrong'
  | 'code-expired'
  | 'code-exhausted'
  | 'code-wait'
  | 'contact-already-yours'
  | 'contact-phone-taken'
  | 'contact-email-taken'
  | 'current-password-missing'
  | 'current-password-wrong'
  | 'current-password-throttled'
  | 'accounts-remain'
  | 'deletion-not-confirmed'
  | 'photo-missing'
  | 'photo-format'
  | 'photo-too-large'
  | 'photo-unreadable'
  | 'identifier-taken'
  | 'identifier-invalid'
  | 'wrong-credentials'
  | 'throttled'
  | 'profile-blocked'
  | 'sign-up-throttled'
  | 'identity-email-taken'
  | 'identity-taken'
  | 'identity-provider-connected'
  | 'identity-not-found'
  | 'last-sign-in-method';

/** Each problem a profile's rules can answer, with its HTTP status and what a person reads. */
export const PROFILE_PROBLEMS: ProblemTable<ProfileProblem> = {
  'profile-not-found': { status: 404, messageKey: 'problem.profile_not_found' },
  'form-invalid': { status: 400, messageKey: 'form.has_errors' },
  'code-format': { status: 400, messageKey: 'code.format' },
  'code-wrong': { status: 400, messageKey: 'code.wrong' },
  'code-expired': { status: 400, messageKey: 'code.expired' },
  'code-exhausted': { status: 400, messageKey: 'code.exhausted' },
  'code-wait': { status: 429, messageKey: 'code.wait' },
  'contact-already-yours': { status: 400, messageKey: 'contacts.already_yours' },
  'contact-phone-taken': { status: 409, messageKey: 'contacts.phone_taken' },
  'contact-email-taken': { status: 409, messageKey: 'contacts.email_taken' },
  'current-password-missing': { status: 400, messageKey: 'password.current_missing' },
  'current-password-wrong': { status: 400, messageKey: 'password.current_wrong' },
  'current-password-throttled': { status: 429, messageKey: 'password.current_throttled' },
  'accounts-remain': { status: 409, messageKey: 'delete.accounts_remain' },
  'deletion-not-confirmed': { status: 400, messageKey: 'delete.confirm_required' },
  'photo-missing': { status: 400, messageKey: 'photo.missing' },
  'photo-format': { status: 400, messageKey: 'photo.format' },
  'photo-too-large': { status: 413, messageKey: 'photo.too_large' },
  'photo-unreadable': { status: 400, messageKey: 'photo.unreadable' },
  'identifier-taken': { status: 409, messageKey: 'problem.identifier_taken' },
  'identifier-invalid': { status: 400, messageKey: 'login.identifier_invalid' },
  'wrong-credentials': { status: 401, messageKey: 'login.failed' },
  'throttled': { status: 429, messageKey: 'login.throttled' },
  'profile-blocked': { status: 403, messageKey: 'login.blocked' },
  'sign-up-throttled': { status: 429, messageKey: 'signup.throttled' },
  'identity-email-taken': { status: 409, messageKey: 'identity.email_taken' },
  'identity-taken': { status: 409, messageKey: 'identity.taken' },
  'identity-provider-connected': { status: 409, messageKey: 'identity.provider_connected' },
  'identity-not-found': { status: 404, messageKey: 'identity.not_found' },
  'last-sign-in-method': { status: 409, messageKey: 'identity.last_sign_in_method' },
};

/**
 * The profile's rules, one function each, for the pages, the command line
 * and the management API alike. Each takes what it needs to know and who is
 * acting, and answers an Outcome.
 */
export function createProfileService(deps: ProfileServiceDependencies) {
  return {
    find: (profileId: string) => deps.queries.profiles.findById(profileId),
    read: async (profileId: string): Promise<Outcome<{ profile: Profile }, 'profile-not-found'>> => {
      const profile = await deps.queries.profiles.findById(profileId);
      return profile ? ok({ profile }) : refuse('profile-not-found');
    },
    findByIdentifier: (identifier: string) => deps.queries.profiles.findByIdentifier(identifier),
    signIn: (input: Parameters<typeof signInWithPassword>[1], actor: Actor) => signInWithPassword(deps, input, actor),
    signUp: (input: SignUpInput, request: Parameters<typeof signUp>[2]) => signUp(deps, input, request),
    confirmEmail: (profileId: string, code: string, actor: Actor) => confirmEmail(deps, profileId, code, actor),
    sendEmailConfirmation: (profile: Profile & { email: string }, locale: string) => sendEmailConfirmation(deps, profile, locale),
    /** Whether a code confirming the profile's email is on its way and still good. */
    awaitsEmailConfirmation: async (profileId: string) => Boolean(await deps.queries.codes.pendingTarget({ profileId, purpose: 'confirm-email' })),
    updateNames: (profileId: string, names: NamesInput, propagate: boolean, actor: Actor) => updateProfileNames(deps, profileId, names, propagate, actor),
    setPhoto: (profileId: string, upload: Buffer, actor: Actor) => setProfilePhoto(deps, profileId, upload, actor),
    findPhoto: (photo: string, size: number) => deps.queries.photos.find(photo, size),
    requestContactCode: (profile: Profile, kind: ContactKind, input: Parameters<typeof requestContactCode>[3]) => requestContactCode(deps, profile, kind, input),
    confirmContact: (profileId: string, kind: ContactKind, code: string, actor: Actor) => confirmContact(deps, profileId, kind, code, actor),
    pendingContact: (profileId: string, kind: ContactKind) => pendingContact(deps, profileId, kind),
    changePassword: (input: Parameters<typeof changePassword>[1], actor: Actor) => changePassword(deps, input, actor),
    requestRecoveryCode: (input: Parameters<typeof requestRecoveryCode>[1], actor: Actor) => requestRecoveryCode(deps, input, actor),
    resetPassword: (input: Parameters<typeof resetPassword>[1], actor: Actor) => resetPassword(deps, input, actor),
    connectedAccounts: (profileId: string) => connectedAccounts(deps.queries, profileId),
    delete: (input: Parameters<typeof deleteProfile>[1], actor: Actor) => deleteProfile(deps, input, actor),
    create: (input: NewProfileByOperator, actor: Actor) => createProfile(deps, input, actor),
    setBlocked: (profileId: string, blocked: boolean, actor: Actor) => setBlocked(deps, profileId, blocked, actor),
    search: (filter: { text?: string | undefined }, page: { limit: number; after?: string | undefined }) => searchProfiles(deps, filter, page),
    signInWithIdentity: (upstream: UpstreamIdentity, request: IdentitySignInRequest) => signInWithIdentity(deps, upstream, request),
    connectIdentity: (profileId: string, upstream: UpstreamIdentity, actor: Actor) => connectIdentity(deps, profileId, upstream, actor),
    disconnectIdentity: (profileId: string, identityId: string, actor: Actor) => disconnectIdentity(deps, profileId, identityId, actor),
    listIdentities: (profileId: string) => deps.queries.identities.listForProfile(profileId),
    /** The last sign-in method (product.md 8): the identity that may not be disconnected, if any. */
    lastSignInMethod: (profile: Profile, identities: readonly Identity[]) => lastSignInMethod(profile, identities),
  };
}

export type ProfileService = ReturnType<typeof createProfileService>;
