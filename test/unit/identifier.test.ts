import { describe, expect, test } from '@jest/globals';
import { normaliseEmail, normalisePhone, parseIdentifier } from '../../src/profile/identifier.js';

describe('parseIdentifier', () => {
  test.each([
    ['ada@example.com', 'ada@example.com'],
    ['Ada.Lovelace@Example.COM', 'ada.lovelace@example.com'],
    ['  ada@example.com\t', 'ada@example.com'],
    ['\n ADA+netid@Mail.Example.Org  ', 'ada+netid@mail.example.org'],
  ])('reads %j as the email %j, lower-cased and trimmed', (input, stored) => {
    expect(parseIdentifier(input)).toEqual({ kind: 'email', value: stored });
  });

  test('gives one stored form for the same address however it was typed', () => {
    const forms = ['ada@example.com', 'ADA@EXAMPLE.COM', '  Ada@Example.com  '].map((input) => parseIdentifier(input));
    expect(new Set(forms.map((form) => form?.value))).toEqual(new Set(['ada@example.com']));
  });

  test.each([
    ['+1 (415) 555-2671', '+14155552671'],
    ['+1 415 555 2671', '+14155552671'],
    ['+1.415.555.2671', '+14155552671'],
    ['+44 20 7946 0958', '+442079460958'],
    // The British habit of showing the trunk zero in brackets.
    ['+44 (0) 20 7946 0958', '+442079460958'],
    ['+49 30 901820', '+4930901820'],
    ['+7 (999) 123-45-67', '+79991234567'],
    ['  +14155552671  ', '+14155552671'],
  ])('reads the international number %j as %j in E.164', (input, stored) => {
    expect(parseIdentifier(input)).toEqual({ kind: 'phone', value: stored });
  });

  test.each([
    ['(415) 555-2671', 'US', '+14155552671'],
    ['415.555.2671', 'US', '+14155552671'],
    ['415 555 2671', 'US', '+14155552671'],
    ['030 901820', 'DE', '+4930901820'],
    // The international call prefix is the one dialled from the default region: 00 in Germany, 011 in the US.
    ['00 49 30 901820', 'DE', '+4930901820'],
    ['0049 30 901820', 'DE', '+4930901820'],
    ['011 49 30 901820', 'US', '+4930901820'],
  ])('reads %j in the national style of %s as %j', (input, region, stored) => {
    expect(parseIdentifier(input, region)).toEqual({ kind: 'phone', value: stored });
  });

  test('needs a default region for a number written without a +', () => {
    expect(parseIdentifier('(415) 555-2671')).toBeUndefined();
    expect(parseIdentifier('00 49 30 901820')).toBeUndefined();
  });

  test('does not treat 00 as the international prefix where it is not one', () => {
    expect(parseIdentifier('00 49 30 901820', 'US')).toBeUndefined();
  });

  test.each([
    [''],
    ['   '],
    ['hello'],
    ['ada'],
    ['ada@'],
    ['@example.com'],
    ['ada@example'],
    ['ada lovelace@example.com'],
    ['ada@@example.com'],
    ['12345'],
    ['+1 415 555 267'],
    ['+1 555 555 5555'],
    ['+1-415-555-2671 ext 3'],
    ['+1 415 555 2671; drop table profiles'],
    // Markup, quotes and control characters are no part of an address anyone can be mailed at.
    ['<b>x</b>@example.test'],
    ['"ada"@example.com'],
    ['ada@exa_mple.com'],
    ['ada@-example.com'],
    ['a\u0000b@netid.test'],
    ['ada\u0007@example.com'],
    ['ada@exam\nple.com'],
    ['ada@localhost'],
  ])('refuses %j', (input) => {
    expect(parseIdentifier(input, 'US')).toBeUndefined();
  });

  test('refuses an email longer than the 254 characters an address may have', () => {
    const domain = (length: number) => `${'d'.repeat(63)}.${'d'.repeat(63)}.${'d'.repeat(length - 128 - 4)}.com`;
    expect(parseIdentifier(`${'a'.repeat(64)}@${domain(189)}`)).toEqual({ kind: 'email', value: `${'a'.repeat(64)}@${domain(189)}` });
    expect(parseIdentifier(`${'a'.repeat(64)}@${domain(190)}`)).toBeUndefined();
  });

  test('refuses a local part longer than the 64 characters RFC 5321 allows', () => {
    expect(parseIdentifier(`${'a'.repeat(64)}@example.com`)).toEqual({ kind: 'email', value: `${'a'.repeat(64)}@example.com` });
    expect(parseIdentifier(`${'a'.repeat(65)}@example.com`)).toBeUndefined();
  });
});

describe('normaliseEmail and normalisePhone', () => {
  test('return the stored form only for their own kind of identifier', () => {
    expect(normaliseEmail(' Ada@Example.com ')).toBe('ada@example.com');
    expect(normaliseEmail('+1 (415) 555-2671')).toBeUndefined();
    expect(normalisePhone('(415) 555-2671', 'US')).toBe('+14155552671');
    expect(normalisePhone('ada@example.com', 'US')).toBeUndefined();
  });
});
