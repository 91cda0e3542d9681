import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import { PHOTO_MAX_BYTES } from '../profile/profile-photo.js';

const TIMEOUT_MS = 5_000;
const MAX_REDIRECTS = 3;

/** Loopback, private, link-local and other special-use ranges (RFC 6890 and its successors): never a provider's photo host. */
const SPECIAL_USE = new net.BlockList();
for (const [prefix, length] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) SPECIAL_USE.addSubnet(prefix, length, 'ipv4');
for (const [prefix, length] of [
  ['::', 127], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16],
  ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) SPECIAL_USE.addSubnet(prefix, length, 'ipv6');

export function isSpecialUseAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return SPECIAL_USE.check(mapped[1]!, 'ipv4');
  return SPECIAL_USE.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
}

/** Resolves as Node would, and refuses a name that leads to a special-use address (checked where the connection is made, so a second answer cannot differ). */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    if (!addresses.length || addresses.some((entry) => isSpecialUseAddress(entry.address))) {
      return callback(Object.assign(new Error(`${hostname} resolves to a special-use address`), { code: 'ENOTALLOWED' }), '', 0);
    }
    if (options.all) return (callback as unknown as (error: null, addresses: dns.LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

export type PhotoDownload = (url: string) => Promise<Buffer | undefined>;

/**
 * Fetches the photo a provider named, for the profile of a person signing up
 * through it, or gives up: the photo is a nicety, never a reason for a
 * sign-up to fail. The address comes from the provider's answer, so the
 * request is guarded like NetID's other outgoing requests
 * (OUTGOING_PRIVATE_NETWORKS): https only, no special-use address after any
 * redirect, at most 5 MB, 5 seconds.
 */
export function createPhotoDownload(options: { allowPrivateNetworks: boolean }): PhotoDownload {
  function get(url: URL, redirects: number): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const secure = url.protocol === 'https:';
      if (!secure && !(options.allowPrivateNetworks && url.protocol === 'http:')) return resolve(undefined);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (!options.allowPrivateNetworks && net.isIP(host) && isSpecialUseAddress(host)) return resolve(undefined);
      const request = (secure ? https : http).get(
        url,
        { timeout: TIMEOUT_MS, headers: { accept: 'image/*' }, ...(options.allowPrivateNetworks ? {} : { lookup: guardedLookup }) },
        (response) => {
          const status = response.statusCode ?? 0;
          const location = response.headers.location;
          if (status >= 300 && status < 400 && location && redirects < MAX_REDIRECTS) {
            response.resume();
            return resolve(get(new URL(location, url), redirects + 1));
          }
          if (status !== 200 || Number(response.headers['content-length'] ?? 0) > PHOTO_MAX_BYTES) {
            response.resume();
            return resolve(undefined);
          }
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > PHOTO_MAX_BYTES) {
              request.destroy();
              resolve(undefined);
            } else chunks.push(chunk);
          });
          response.on('end', () => resolve(Buffer.concat(chunks)));
          response.on('error', () => resolve(undefined));
        },
      );
      request.on('timeout', () => request.destroy());
      request.on('error', () => resolve(undefined));
    });
  }

  return async (url) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return undefined;
    }
    return get(parsed, 0);
  };
}
