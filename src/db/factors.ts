import { randomUUID } from 'node:crypto';
import type { Database } from './database.js';

/** A profile's authenticator app: its sealed secret, and the last time step a code was accepted for. */
export interface StoredTotp {
  profile_id: string;
  secret_sealed: string;
  confirmed_at: Date | null;
  last_time_step: string | number | null;
}

/** A WebAuthn credential (a passkey or a security key) of a profile. */
export interface Passkey {
  id: string;
  profile_id: string;
  /** base64url, as WebAuthn names it. */
  credential_id: string;
  /** The COSE public key, base64url. */
  public_key: string;
  counter: string | number;
  transports: string[];
  /** `singleDevice` (bound to one authenticator) or `multiDevice` (synced). */
  device_type: string;
  backed_up: boolean;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
}

export interface NewPasskey {
  profileId: string;
  credentialId: string;
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
  name: string;
}

/** The second factors of profiles: authenticator apps, passkeys and recovery codes. */
export function createFactorQueries(db: Database) {
  return {
    totp: {
      async find(profileId: string): Promise<StoredTotp | undefined> {
        return db<StoredTotp>('profile_totp').where({ profile_id: profileId }).first();
      },

      /** A new secret waiting for its first code; it replaces one that was never confirmed, never a confirmed one. */
      async savePending(profileId: string, secretSealed: string): Promise<boolean> {
        const result = await db.raw(
          `insert into profile_totp (profile_id, secret_sealed) values (?, ?)
           on conflict (profile_id) do update set secret_sealed = excluded.secret_sealed, created_at = now(), last_time_step = null
           where profile_totp.confirmed_at is null
           returning profile_id`,
          [profileId, secretSealed],
        );
        return result.rows.length === 1;
      },

      /**
       * Accepts a code's time step only if it is later than every step accepted
       * before, in one statement: of two requests with the same code, one wins.
       * `confirm` also marks a pending secret confirmed.
       */
      async acceptTimeStep(profileId: string, timeStep: number, confirm: boolean): Promise<boolean> {
        const result = await db.raw(
          `update profile_totp set last_time_step = ?, confirmed_at = ${confirm ? 'coalesce(confirmed_at, now())' : 'confirmed_at'}
           where profile_id = ? and (last_time_step is null or last_time_step < ?) and (${confirm ? 'true' : 'confirmed_at is not null'})
           returning profile_id`,
          [timeStep, profileId, timeStep],
        );
        return result.rows.length === 1;
      },

      async remove(profileId: string): Promise<boolean> {
        const removed = await db('profile_totp').where({ profile_id: profileId }).delete(['profile_id']);
        return removed.length > 0;
      },
    },

    passkeys: {
      async list(profileId: string): Promise<Passkey[]> {
        return db<Passkey>('profile_passkeys').where({ profile_id: profileId }).orderBy('created_at');
      },

      async findByCredentialId(credentialId: string): Promise<Passkey | undefined> {
        return db<Passkey>('profile_passkeys').where({ credential_id: credentialId }).first();
      },

      async insert(passkey: NewPasskey): Promise<Passkey> {
        const [row] = await db<Passkey>('profile_passkeys')
          .insert({
            id: randomUUID(),
            profile_id: passkey.profileId,
            credential_id: passkey.credentialId,
            public_key: passkey.publicKey,
            counter: passkey.counter,
            transports: JSON.stringify(passkey.transports) as never,
            device_type: passkey.deviceType,
            backed_up: passkey.backedUp,
            name: passkey.name,
          })
          .returning('*');
        return row as Passkey;
      },

      /**
       * Records a use. An authenticator that counts must count up (WebAuthn 6.1.1):
       * the update is refused when the stored counter is not below the new one,
       * unless both are zero (an authenticator that does not count).
       */
      async recordUse(id: string, counter: number): Promise<boolean> {
        const result = await db.raw(
          `update profile_passkeys set counter = ?, last_used_at = now()
           where id = ? and (counter < ? or (counter = 0 and ? = 0))
           returning id`,
          [counter, id, counter, counter],
        );
        return result.rows.length === 1;
      },

      async rename(profileId: string, id: string, name: string): Promise<boolean> {
        const renamed = await db('profile_passkeys').where({ profile_id: profileId, id }).update({ name }, ['id']);
        return renamed.length > 0;
      },

      async remove(profileId: string, id: string): Promise<boolean> {
        const removed = await db('profile_passkeys').where({ profile_id: profileId, id }).delete(['id']);
        return removed.length > 0;
      },
    },

    recoveryCodes: {
      /** Replaces every code of the profile, used or not, with these. */
      async replace(profileId: string, codeHashes: string[]): Promise<void> {
        await db('profile_recovery_codes').where({ profile_id: profileId }).delete();
        if (codeHashes.length) await db('profile_recovery_codes').insert(codeHashes.map((code_hash) => ({ profile_id: profileId, code_hash })));
      },

      /** Uses a code up, once: of two requests with the same code, one wins. */
      async use(profileId: string, codeHash: string): Promise<boolean> {
        const result = await db.raw(
          `update profile_recovery_codes set used_at = now()
           where id = (select id from profile_recovery_codes where profile_id = ? and code_hash = ? and used_at is null limit 1)
             and used_at is null
           returning id`,
          [profileId, codeHash],
        );
        return result.rows.length === 1;
      },

      async remaining(profileId: string): Promise<number> {
        const row = await db('profile_recovery_codes').where({ profile_id: profileId }).whereNull('used_at').count<{ count: string | number }[]>('* as count').first();
        return Number(row?.count ?? 0);
      },

      async remove(profileId: string): Promise<void> {
        await db('profile_recovery_codes').where({ profile_id: profileId }).delete();
      },
    },

    /** What a profile has enrolled, in one round trip: the sign-in asks this at every password. */
    async summary(profileId: string): Promise<{ totp: boolean; passkeys: number; recoveryCodes: number }> {
      const result = await db.raw(
        `select
           exists (select 1 from profile_totp where profile_id = ? and confirmed_at is not null) as totp,
           (select count(*) from profile_passkeys where profile_id = ?) as passkeys,
           (select count(*) from profile_recovery_codes where profile_id = ? and used_at is null) as recovery_codes`,
        [profileId, profileId, profileId],
      );
      const row = result.rows[0];
      return { totp: row.totp === true || row.totp === 't', passkeys: Number(row.passkeys), recoveryCodes: Number(row.recovery_codes) };
    },
  };
}

export type FactorQueries = ReturnType<typeof createFactorQueries>;
