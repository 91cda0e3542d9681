import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import type { Actor } from '../db/audit.js';
import type { Profile } from '../db/profiles.js';
import { ok, refuse, type Outcome } from '../outcome.js';
import type { FactorServiceDependencies } from './factor-service.js';
import { forgetRecoveryCodesWithoutFactor } from './recovery-codes.js';

/**
 * A code is good for its 30-second step and one step either side, for clocks
 * that drift and codes typed as they turn over (RFC 6238 5.2); never twice.
 */
const TOLERANCE_SECONDS = 30;

/** What an authenticator app is set up with: the secret as text, and the same as a QR code to scan. */
export interface TotpSetup {
  secret: string;
  /** The otpauth:// URI (Key Uri Format) the QR code holds. */
  uri: string;
  /** The QR code as an SVG data URL, which NetID's pages may show (img-src 'self' data:). */
  qrCode: string;
}

export type TotpProblem = 'totp-already-enabled' | 'totp-not-enabled' | 'code-format' | 'second-factor-wrong' | 'second-factor-throttled';

async function setupOf(secret: string, profile: Profile): Promise<TotpSetup> {
  const uri = generateURI({ issuer: 'Bitrix24 Network', label: profile.email ?? profile.phone ?? profile.id, secret });
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { secret, uri, qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
}

/**
 * Starts setting up an authenticator app: a new secret, kept sealed until its
 * first code confirms it. The page that shows it draws the QR code (pendingTotp).
 */
export async function beginTotp(deps: FactorServiceDependencies, profile: Profile): Promise<Outcome<{ secret: string }, 'totp-already-enabled'>> {
  const secret = generateSecret();
  if (!(await deps.queries.factors.totp.savePending(profile.id, deps.sealer.seal(secret)))) return refuse('totp-already-enabled');
  return ok({ secret });
}

/** The set-up in progress, shown again until it is confirmed. */
export async function pendingTotp(deps: FactorServiceDependencies, profile: Profile): Promise<TotpSetup | undefined> {
  const stored = await deps.queries.factors.totp.find(profile.id);
  if (!stored || stored.confirmed_at) return undefined;
  return setupOf(deps.sealer.open(stored.secret_sealed), profile);
}

export const isTotpShaped = (code: string): boolean => /^\d{6}$/.test(code);

/**
 * Checks a code from the profile's authenticator app: six digits, within the
 * tolerance, from a time step later than any accepted before (a code is
 * accepted once; an earlier one after a later one is refused too), with
 * wrong ones slowed. `confirm` accepts the first code of a set-up.
 */
export async function checkTotp(
  deps: FactorServiceDependencies,
  profileId: string,
  code: string,
  options: { confirm: boolean },
): Promise<Outcome<object, Exclude<TotpProblem, 'totp-already-enabled'>>> {
  const typed = code.replace(/\s+/g, '');
  if (!isTotpShaped(typed)) return refuse('code-format');
  const stored = await deps.queries.factors.totp.find(profileId);
  if (!stored || (options.confirm ? stored.confirmed_at : !stored.confirmed_at)) return refuse('totp-not-enabled');
  const wait = await deps.limits.admit(profileId);
  if (wait > 0) {
    deps.metrics.rateLimitRefusals.inc({ limit: 'second_factor' });
    return refuse('second-factor-throttled', { retryAfterSeconds: wait });
  }
  const lastStep = stored.last_time_step === null ? undefined : Number(stored.last_time_step);
  const result = await verify({
    secret: deps.sealer.open(stored.secret_sealed),
    token: typed,
    epochTolerance: TOLERANCE_SECONDS,
    ...(lastStep === undefined ? {} : { afterTimeStep: lastStep }),
  });
  // Accepted only if no other request accepted this step or a later one meanwhile.
  const timeStep = result.valid && 'timeStep' in result ? result.timeStep : undefined;
  if (timeStep === undefined || !(await deps.queries.factors.totp.acceptTimeStep(profileId, timeStep, options.confirm))) {
    deps.metrics.signIns.inc({ outcome: 'second_factor' });
    return refuse('second-factor-wrong');
  }
  await deps.limits.succeeded(profileId);
  return ok({});
}

/** Turns the authenticator app off. */
export async function removeTotp(deps: FactorServiceDependencies, profileId: string, actor: Actor): Promise<Outcome<object, 'totp-not-enabled'>> {
  return deps.queries.transaction(async (queries) => {
    const stored = await queries.factors.totp.find(profileId);
    if (!(await queries.factors.totp.remove(profileId)) || !stored?.confirmed_at) return refuse('totp-not-enabled');
    await queries.audit.record({ kind: 'factor.totp_removed', profileId, actor });
    await forgetRecoveryCodesWithoutFactor(queries, profileId);
    return ok({});
  });
}
