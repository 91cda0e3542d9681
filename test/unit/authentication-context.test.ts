import { describe, expect, test } from '@jest/globals';
import { acrFor, acrRequestOf, reportedAcr, requestedLevel, withMultipleFactors } from '../../src/oidc/authentication-context.js';

const [ONE, TWO, PHR] = ['urn:netid:acr:1fa', 'urn:netid:acr:2fa', 'urn:netid:acr:phr'];

describe('authentication levels', () => {
  test.each([
    [['pwd'], ONE],
    [['fed'], ONE],
    [['pwd', 'otp'], TWO],
    [['fed', 'otp'], TWO],
    [['pwd', 'hwk', 'user'], PHR],
    [['swk', 'user', 'mfa'], PHR],
    [['hwk', 'user'], ONE],
  ])('%j reaches %s', (amr, acr) => {
    expect(acrFor(amr)).toBe(acr);
  });

  test('two factors are named mfa once', () => {
    expect(withMultipleFactors(['pwd', 'otp', 'otp'])).toEqual(['pwd', 'otp', 'mfa']);
    expect(withMultipleFactors(['pwd'])).toEqual(['pwd']);
  });

  test('a request names any of several levels; the weakest NetID knows is what must be reached', () => {
    expect(requestedLevel(acrRequestOf({ acr_values: `${PHR} ${TWO}` }))).toBe(TWO);
    expect(requestedLevel(acrRequestOf({ acr_values: 'urn:example:gold' }))).toBeUndefined();
    expect(acrRequestOf({ claims: JSON.stringify({ id_token: { acr: { essential: true, value: PHR } } }), acr_values: ONE })).toEqual({ values: [PHR], essential: true });
    expect(acrRequestOf({ claims: 'not json' })).toBeUndefined();
  });

  test('a token says the level reached, in the terms the relying party asked in', () => {
    expect(reportedAcr(['pwd', 'hwk', 'mfa'], undefined)).toBe(PHR);
    expect(reportedAcr(['pwd', 'hwk', 'mfa'], { values: [TWO], essential: true })).toBe(TWO);
    expect(reportedAcr(['pwd', 'otp', 'mfa'], { values: [ONE, TWO], essential: false })).toBe(TWO);
    expect(reportedAcr(['pwd'], { values: [TWO], essential: false })).toBe(ONE);
  });
});
