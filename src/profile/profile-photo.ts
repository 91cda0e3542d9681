import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { AuditQueries } from '../db/audit.js';
import type { Database } from '../db/database.js';
import type { MembershipQueries } from '../db/memberships.js';

/** Uploads larger than this are refused before they are decoded. */
export const PHOTO_MAX_BYTES = 5 * 1024 * 1024;
/** Square sizes every photo is stored in; the first is what `picture` points to. */
export const PHOTO_SIZES = [400, 100] as const;
export type PhotoSize = (typeof PHOTO_SIZES)[number];

const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp']);
// A decompression bomb stops here rather than in memory: 40 megapixels is beyond any phone camera's photo.
const MAX_INPUT_PIXELS = 40_000_000;

export type PhotoProblem = 'format' | 'too-large' | 'unreadable';

/**
 * Decodes what was uploaded (the bytes decide the format, not the file name
 * or the browser's content type) and renders it as JPEG squares in the
 * standard sizes, without the original's metadata (location, camera).
 */
export async function renderPhoto(upload: Buffer): Promise<{ ok: true; sizes: Map<PhotoSize, Buffer> } | { ok: false; problem: PhotoProblem }> {
  if (upload.length > PHOTO_MAX_BYTES) return { ok: false, problem: 'too-large' };
  let format: string | undefined;
  try {
    format = (await sharp(upload, { limitInputPixels: MAX_INPUT_PIXELS }).metadata()).format;
  } catch {
    return { ok: false, problem: 'unreadable' };
  }
  if (!format || !ACCEPTED_FORMATS.has(format)) return { ok: false, problem: 'format' };
  try {
    const sizes = new Map<PhotoSize, Buffer>();
    for (const size of PHOTO_SIZES) {
      const rendered = await sharp(upload, { limitInputPixels: MAX_INPUT_PIXELS })
        .rotate()
        .resize(size, size, { fit: 'cover', position: 'attention' })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: 85, mozjpeg: true })
        .toBuffer();
      sizes.set(size, rendered);
    }
    return { ok: true, sizes };
  } catch {
    return { ok: false, problem: 'unreadable' };
  }
}

export interface PhotoDependencies {
  db: Database;
  memberships: MembershipQueries;
  audit: AuditQueries;
}

/**
 * A new profile photo reaches every connected account at once (product.md 3):
 * the profile and each invited or active membership point to it. Photos no
 * longer shown anywhere are deleted with the change.
 */
export async function setProfilePhoto(
  deps: PhotoDependencies,
  profileId: string,
  upload: Buffer,
): Promise<{ ok: true; photo: string } | { ok: false; problem: PhotoProblem }> {
  const rendered = await renderPhoto(upload);
  if (!rendered.ok) return rendered;
  const photo = randomUUID();
  await deps.db.transaction(async (trx) => {
    await trx('photos').insert(
      [...rendered.sizes].map(([size, data]) => ({ id: photo, size, content_type: 'image/jpeg', data, profile_id: profileId })),
    );
    await trx('profiles').where({ id: profileId }).update({ photo, updated_at: trx.fn.now() });
    await deps.memberships.updateConnected(profileId, { photo }, trx);
    await trx('photos')
      .where('profile_id', profileId)
      .whereNot('id', photo)
      .whereRaw('id::text not in (select photo from memberships where profile_id = ? and photo is not null)', [profileId])
      .delete();
    await deps.audit.record({ kind: 'profile.photo_changed', profileId }, trx);
  });
  return { ok: true, photo };
}

const PHOTO_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function findPhoto(db: Database, id: string, size: PhotoSize): Promise<{ data: Uint8Array; content_type: string } | undefined> {
  if (!PHOTO_ID.test(id)) return undefined;
  return db('photos').where({ id, size }).first('data', 'content_type');
}
