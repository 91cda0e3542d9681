import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { SessionService } from './session-service.js';

/**
 * Notes where each network session is used, beside oidc-provider's own
 * Session: a sign-in that finished (the `resume` after a login) records the
 * browser and address; any other authorization answered from the session
 * only marks it seen. After the answer, and never failing it: the list on
 * the Security page is worth less than the person's sign-in.
 */
export function recordSessions(provider: Provider, sessions: SessionService, logger: Logger): void {
  provider.use(async (ctx, next) => {
    await next();
    const { oidc } = ctx as KoaContextWithOIDC;
    if (!oidc || (oidc.route !== 'resume' && oidc.route !== 'authorization')) return;
    const session = oidc.entities.Session ?? (oidc as { session?: { uid?: string; accountId?: string } }).session;
    const uid = session?.uid;
    const profileId = session?.accountId;
    if (!uid || !profileId) return;
    try {
      if (oidc.route === 'resume' && oidc.result?.login) {
        await sessions.recordSignIn({ sessionUid: uid, profileId, userAgent: ctx.get('user-agent') || null, ip: ctx.ip || null });
      } else {
        await sessions.touch(uid, ctx.ip || null);
      }
    } catch (error) {
      logger.warn({ err: error }, 'the session could not be recorded');
    }
  });
}
