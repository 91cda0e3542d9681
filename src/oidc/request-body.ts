import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

/** The largest body oidc-provider reads itself (lib/shared/selective_body.js); NetID reads no more for it. */
export const PROTOCOL_BODY_LIMIT = 56 * 1024;

export class BodyTooLarge extends Error {
  override name = 'BodyTooLarge';
}

/** Reads a request body up to `limit` bytes; a larger one is refused before it is all in memory. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (Number(req.headers['content-length']) > limit) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  // destroyOnReturn: false, so refusing a large body still leaves the socket to answer on.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** The stream members oidc-provider reads a body through (lib/shared/selective_body.js). */
const BODY_MEMBERS = new Set<PropertyKey>(['readable', 'readableEncoding', 'iterator']);

/**
 * The request as oidc-provider should see it once NetID has read its body:
 * the same in every other respect (headers, URL, socket, cookies), with a body
 * that starts again from the bytes already read. Handing oidc-provider a parsed
 * body instead works too, but makes it warn on the console.
 */
export function withBody(req: IncomingMessage, body: Buffer): IncomingMessage {
  const replay = Readable.from(body.length ? [body] : []);
  return new Proxy(req, {
    get(target, property) {
      const source: object = BODY_MEMBERS.has(property) ? replay : target;
      const value: unknown = Reflect.get(source, property, source);
      return typeof value === 'function' ? value.bind(source) : value;
    },
  });
}
