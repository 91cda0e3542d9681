import { describe, expect, test } from '@jest/globals';
import { contextWords, isBuiltFromContext, MIN_OWN_CHARACTERS, passwordProblem } from '../../src/security/password-policy.js';

const EMAIL = 'ada.lovelace@example.test';
const PHONE = '+4915112345678';

describe('passwordProblem', () => {
  test.each([
    ['shorter than 8 characters', 'short', 'too-short'],
    ['longer than 128 characters', 'x'.repeat(129), 'too-long'],
    ['a common password, in any case', 'Password1', 'common'],
  ])('refuses a password %s', (_case, password, problem) => {
    expect(passwordProblem(password, [EMAIL])).toBe(problem);
  });

  test.each([
    ['the whole email', EMAIL],
    ['the email in capitals with a mark', `${EMAIL.toUpperCase()}!`],
    ["the email's name", 'ada.lovelace'],
    ["the email's name without its dot, plus a year's end", 'AdaLovelace99'],
    ['the phone number as stored', PHONE],
    ['the phone number written with spaces', '+49 151 1234 5678'],
    ['the phone number written nationally', '(0151) 1234-5678'],
    ['the phone number without country code or trunk prefix', '15112345678!'],
    ['the name of the service', 'Bitrix24!!'],
    ['the name of the service in Russian', 'Битрикс24!!'],
    ['two names of the service', 'NetID-network'],
    ['a name of the service with a short number', 'netid-20'],
    ['the email name and a name of the service', 'ada.lovelace@bitrix'],
  ])('refuses %s', (_case, password) => {
    expect(passwordProblem(password, [EMAIL, PHONE])).toBe('context-words');
  });

  test.each([
    ['a pass phrase', 'correct horse battery staple'],
    ['a name of the service with enough of its own', 'bitrix24 is where my team works'],
    ['the email name with enough of its own', 'ada.lovelace sails to Spain'],
    [`exactly ${MIN_OWN_CHARACTERS} characters besides a name of the service`, 'NetID-2024'],
    ['another phone number', '+49 151 8765 4321'],
  ])('accepts %s', (_case, password) => {
    expect(passwordProblem(password, [EMAIL, PHONE])).toBeUndefined();
  });

  test('refuses the names of the service even when no identifier is known', () => {
    expect(passwordProblem('Bitrix24 Bitrix24')).toBe('context-words');
  });

  test("leaves short email names alone: taking 'al' out of every password would refuse good ones", () => {
    expect(passwordProblem('always alert', ['al@example.test'])).toBeUndefined();
    expect(isBuiltFromContext('al@example.test!', ['al@example.test'])).toBe(true);
  });
});

describe('contextWords', () => {
  test('lists the email, its name, the phone in its writings and the names of the service, longest first', () => {
    const words = contextWords([EMAIL, PHONE]);
    expect(words).toEqual(
      expect.arrayContaining(['adalovelaceexampletest', 'adalovelace', '4915112345678', '015112345678', '15112345678', 'bitrix24', 'bitrix', 'netid', 'network']),
    );
    expect(words.indexOf('bitrix24')).toBeLessThan(words.indexOf('bitrix'));
  });
});
