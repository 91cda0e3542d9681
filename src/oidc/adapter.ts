import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { ClientQueries } from '../db/clients.js';
import type { Database } from '../db/database.js';

/**
 * A rotated refresh token stays usable this long after its first use, so two
 * instances (or a retrying client) racing on one token do not trip
 * oidc-provider's replay detection, which revokes the whole grant.
 */
export const REFRESH_TOKEN_REUSE_SECONDS = 3;

interface ModelRow {
  payload: AdapterPayload;
  consumed_at: Date | null;
}

function toPayload(row: ModelRow | undefined, model: string): AdapterPayload | undefined {
  if (!row) return undefined;
  const payload = row.payload;
  if (!row.consumed_at) return payload;
  const consumedFor = (Date.now() - row.consumed_at.getTime()) / 1000;
  if (model === 'RefreshToken' && consumedFor < REFRESH_TOKEN_REUSE_SECONDS) return payload;
  return { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) };
}

/** oidc-provider's storage: one `oidc_models` table for every model, clients from `clients`. */
export function createAdapterFactory(db: Database, clients: ClientQueries) {
  const live = (model: string) =>
    db<ModelRow>('oidc_models')
      .where('model', model)
      .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', db.fn.now()));

  class ModelAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      await db('oidc_models')
        .insert({
          model: this.model,
          id,
          payload: JSON.stringify(payload),
          grant_id: payload.grantId ?? null,
          user_code: payload.userCode ?? null,
          uid: payload.uid ?? null,
          expires_at: expiresAt,
        })
        .onConflict(['model', 'id'])
        .merge(['payload', 'grant_id', 'user_code', 'uid', 'expires_at']);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return toPayload(await live(this.model).where('id', id).first('payload', 'consumed_at'), this.model);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return toPayload(await live(this.model).where('uid', uid).first('payload', 'consumed_at'), this.model);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return toPayload(await live(this.model).where('user_code', userCode).first('payload', 'consumed_at'), this.model);
    }

    async consume(id: string): Promise<void> {
      await db('oidc_models')
        .where({ model: this.model, id })
        .whereNull('consumed_at')
        .update({ consumed_at: db.fn.now() });
    }

    async destroy(id: string): Promise<void> {
      await db('oidc_models').where({ model: this.model, id }).delete();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      // Codes and tokens issued under the grant go at once; oidc-provider destroys the Grant row itself.
      await db('oidc_models').where('grant_id', grantId).delete();
    }
  }

  class ClientAdapter implements Adapter {
    async upsert(): Promise<void> {
      throw new Error('clients are registered with the NetID command line, not through oidc-provider');
    }
    async find(id: string): Promise<AdapterPayload | undefined> {
      return (await clients.findMetadata(id)) as AdapterPayload | undefined;
    }
    async findByUid(): Promise<undefined> {
      return undefined;
    }
    async findByUserCode(): Promise<undefined> {
      return undefined;
    }
    async consume(): Promise<void> {}
    async destroy(): Promise<void> {}
    async revokeByGrantId(): Promise<void> {}
  }

  return function adapterFor(model: string): Adapter {
    return model === 'Client' ? new ClientAdapter() : new ModelAdapter(model);
  };
}

/** Deletes expired rows in batches so one run never holds a long lock. Returns how many went. */
export async function deleteExpiredModels(db: Database, batchSize = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await db.raw(
      `delete from oidc_models where (model, id) in (
         select model, id from oidc_models where expires_at < now() limit ?
       )`,
      [batchSize],
    );
    const deleted = Number(result.rowCount ?? result.affectedRows ?? 0);
    total += deleted;
    if (deleted < batchSize) return total;
  }
}
