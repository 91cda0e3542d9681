import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, EmbeddedJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Actor } from '../db/audit.js';
import { ApiProblem } from './problems.js';

/** Who is calling the management API, as its access token says. */
export interface Caller {
  /** The client the token was issued to. */
  clientId: string;
  /** The person it was issued for, when it came from a sign-in; absent for client_credentials. */
  profileId?: string | undefined;
  scopes: ReadonlySet<string>;
  /** The same, for the audit trail. */
  actor: Actor;
}

/** Asymmetric algorithms a DPoP proof may use (RFC 9449 4.2); NetID's own DPoP accepts the same. */
const DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'Ed25519', 'RS256', 'PS256'];
/** How old a DPoP proof may be, and how far in the future, allowing for clock skew. */
const DPOP_MAX_AGE_SECONDS = 60;

/** How many verified tokens a process remembers; the oldest is forgotten first. */
const VERIFIED_TOKENS_KEPT = 1000;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'key_ops'] as const;

/** The verifying half of signing keys, as JWKS publishes them. */
export function publicKeys(keys: JWK[]): JWK[] {
  return keys.map((key) => {
    const copy: Record<string, unknown> = { ...key };
    for (const member of PRIVATE_MEMBERS) delete copy[member];
    return copy as JWK;
  });
}

const unauthorized = (detail: string, dpop: boolean) =>
  new ApiProblem('unauthorized', {
    detail,
    headers: {
      'WWW-Authenticate': `${dpop ? 'DPoP' : 'Bearer'} realm="netid-management-api", error="invalid_token", error_description="${detail.replace(/"/g, "'")}"`,
    },
  });

/**
 * Checks the access token of a management API request: a JWT access token
 * (RFC 9068) that NetID issued for the API's resource indicator, verified
 * against NetID's own keys without a database round trip. A DPoP-bound token
 * (`cnf.jkt`) needs the `DPoP` scheme and a fresh proof of its key for this
 * request (RFC 9449 4.3, 7.1); each proof is accepted once.
 */
export function createTokenVerifier(options: { issuer: string; audience: string; keys: JWK[]; provider: Provider }) {
  const keySet = createLocalJWKSet({ keys: publicKeys(options.keys) });
  /**
   * Tokens whose signature and claims were already checked, until they
   * expire: a back end calls with one token many times in its five minutes,
   * and the signature check is most of a call's CPU. The keys are loaded
   * once per process, so a token verified once stays verifiable; only its
   * expiry moves, and is checked at every use.
   */
  const verifiedTokens = new Map<string, JWTPayload>();
  const remember = (token: string, payload: JWTPayload) => {
    if (verifiedTokens.size >= VERIFIED_TOKENS_KEPT) verifiedTokens.delete(verifiedTokens.keys().next().value!);
    verifiedTokens.set(token, payload);
  };

  async function checkProof(ctx: Context, token: string, boundTo: string, clientId: string): Promise<void> {
    const proof = ctx.get('DPoP');
    if (!proof) throw unauthorized('a DPoP proof is required with this token', true);
    let verified;
    try {
      verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: DPOP_ALGORITHMS, maxTokenAge: DPOP_MAX_AGE_SECONDS, clockTolerance: DPOP_MAX_AGE_SECONDS });
    } catch {
      throw unauthorized('the DPoP proof is not valid', true);
    }
    const { payload, protectedHeader } = verified;
    const target = `${options.issuer}${ctx.path}`;
    if (payload.htm !== ctx.method || payload.htu !== target) throw unauthorized('the DPoP proof is for another request', true);
    if (payload.ath !== createHash('sha256').update(token).digest('base64url')) throw unauthorized('the DPoP proof is for another token', true);
    if ((await calculateJwkThumbprint(protectedHeader.jwk!)) !== boundTo) throw unauthorized('the DPoP proof is made with another key', true);
    if (typeof payload.jti !== 'string' || !(await options.provider.ReplayDetection.unique(clientId, payload.jti, (payload.iat ?? 0) + 2 * DPOP_MAX_AGE_SECONDS))) {
      throw unauthorized('the DPoP proof was already used', true);
    }
  }

  return async function verify(ctx: Context): Promise<Caller> {
    const header = ctx.get('Authorization');
    const match = /^(Bearer|DPoP) ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
    if (!match) throw unauthorized(header ? 'the Authorization header is not a Bearer or DPoP token' : 'an access token is required', false);
    const dpop = match[1]!.toLowerCase() === 'dpop';
    const token = match[2]!;
    let payload = verifiedTokens.get(token);
    if (payload && !(typeof payload.exp === 'number' && payload.exp > Date.now() / 1000)) {
      verifiedTokens.delete(token);
      payload = undefined;
    }
    if (!payload) {
      try {
        ({ payload } = await jwtVerify(token, keySet, { issuer: options.issuer, audience: options.audience, typ: 'at+jwt' }));
      } catch {
        throw unauthorized('the access token is not valid for this API, or has expired', dpop);
      }
      remember(token, payload);
    }
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
    if (!clientId || typeof payload.sub !== 'string') throw unauthorized('the access token names no client', dpop);
    const boundTo = (payload.cnf as { jkt?: unknown } | undefined)?.jkt;
    if (typeof boundTo === 'string') {
      if (!dpop) throw unauthorized('this token is bound to a key: send it with the DPoP scheme and a proof', true);
      await checkProof(ctx, token, boundTo, clientId);
    } else if (dpop) {
      throw unauthorized('this token is not bound to a key: send it with the Bearer scheme', false);
    }
    // client_credentials tokens name the client as their subject; a sign-in's name the person.
    const profileId = payload.sub === clientId ? undefined : payload.sub;
    return {
      clientId,
      profileId,
      scopes: new Set(typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : []),
      actor: profileId
        ? { kind: 'profile', profileId, clientId, ip: ctx.ip, userAgent: ctx.get('user-agent') || null }
        : { kind: 'client', clientId, ip: ctx.ip, userAgent: ctx.get('user-agent') || null },
    };
  };
}

export type TokenVerifier = ReturnType<typeof createTokenVerifier>;
