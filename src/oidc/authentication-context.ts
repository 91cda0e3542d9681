/** Authentication context classes NetID asserts in `acr`, and advertises in discovery. */
export const ACR = { password: 'urn:netid:acr:password' } as const;

/** The `acr` a sign-in earns from what it proved (its RFC 8176 `amr` values). */
export function acrFor(_amr: readonly string[]): string {
  return ACR.password;
}
