import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { Actor } from '../db/audit.js';
import { ok, refuse, type Outcome } from '../outcome.js';
import type { ProfileServiceDependencies } from './profile-service.js';

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

/**
 * A new profile photo reaches every connected account at once (product.md 3):
 * the profile and each invited or active membership point to it. Photos no
 * longer shown anywhere are deleted with the change.
 */
export async function setProfilePhoto(
  deps: ProfileServiceDependencies,
  profileId: string,
  upload: Buffer,
  actor: Actor,
): Promise<Outcome<{ photo: string }, `photo-${PhotoProblem}`>> {
  const rendered = await renderPhoto(upload);
  if (!rendered.ok) return refuse(`photo-${rendered.problem}`);
  const photo = randomUUID();
  await deps.queries.transaction(async (queries) => {
    await queries.photos.insert(photo, profileId, rendered.sizes);
    await queries.profiles.setPhoto(profileId, photo);
    await queries.memberships.updateConnected(profileId, { photo });
    await queries.photos.deleteUnused(profileId);
    await queries.audit.record({ kind: 'profile.photo_changed', profileId, actor });
  });
  return ok({ photo });
}
