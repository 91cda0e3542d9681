import { generate } from 'otplib';
import type { NetidContext } from '../../src/context.js';
import { OPERATOR } from '../../src/db/audit.js';
import type { Profile } from '../../src/db/profiles.js';

/**
 * An authenticator app for tests: each code is from a time step later than
 * the last one it gave (NetID accepts a step once) and within the step either
 * side of now that NetID tolerates, waiting for the clock when it must.
 */
export function authenticatorApp(secret: string) {
  let last = -Infinity;
  return {
    secret,
    async nextCode(): Promise<string> {
      const current = Math.floor(Date.now() / 30_000);
      const step = Math.max(last + 1, current - 1);
      if (step > current + 1) await new Promise((resolve) => setTimeout(resolve, (step - 1) * 30_000 - Date.now() + 50));
      last = step;
      return generate({ secret, epoch: step * 30 + 1 });
    },
    /** A code of a step already used: NetID must refuse it. */
    usedCode(): Promise<string> {
      return generate({ secret, epoch: last * 30 + 1 });
    },
  };
}

export type AuthenticatorApp = ReturnType<typeof authenticatorApp>;

/** Sets up an authenticator app for the profile through the rules, as the Security page does. */
export async function enrolAuthenticatorApp(context: NetidContext, profile: Profile): Promise<AuthenticatorApp> {
  const begun = await context.services.factors.beginTotp(profile);
  if (!begun.ok) throw new Error(`the authenticator app was refused: ${begun.problem}`);
  const app = authenticatorApp(begun.secret);
  const confirmed = await context.services.factors.confirmTotp(profile.id, await app.nextCode(), OPERATOR);
  if (!confirmed.ok) throw new Error(`the first code was refused: ${confirmed.problem}`);
  return app;
}
