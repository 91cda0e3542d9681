import type { Database } from './database.js';

export interface StoredPhoto {
  data: Uint8Array;
  content_type: string;
}

const PHOTO_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function createPhotoQueries(db: Database) {
  return {
    /** One photo in each of its sizes, as JPEG. */
    async insert(photo: string, profileId: string, sizes: Map<number, Buffer>): Promise<void> {
      await db('photos').insert([...sizes].map(([size, data]) => ({ id: photo, size, content_type: 'image/jpeg', data, profile_id: profileId })));
    },

    /** Deletes the profile's photos that neither it nor any of its memberships shows any longer. */
    async deleteUnused(profileId: string): Promise<void> {
      await db('photos')
        .where('profile_id', profileId)
        .whereRaw('id::text not in (select photo from profiles where id = ? and photo is not null)', [profileId])
        .whereRaw('id::text not in (select photo from memberships where profile_id = ? and photo is not null)', [profileId])
        .delete();
    },

    async find(id: string, size: number): Promise<StoredPhoto | undefined> {
      if (!PHOTO_ID.test(id)) return undefined;
      return db('photos').where({ id, size }).first('data', 'content_type');
    },
  };
}

export type PhotoQueries = ReturnType<typeof createPhotoQueries>;
