import { describe, expect, test } from '@jest/globals';
import { en, type MessageKey } from '../../src/i18n/en.js';
import { ru } from '../../src/i18n/ru.js';

const keys = Object.keys(en) as MessageKey[];

/** The {placeholder} names a text uses, sorted and without repeats. */
function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!))].sort();
}

describe('Russian catalogue', () => {
  test('has a text for every English key', () => {
    const missing = keys.filter((key) => typeof ru[key] !== 'string' || ru[key]!.trim() === '');
    expect(missing).toEqual([]);
  });

  test('has no key the English catalogue lacks', () => {
    const extra = Object.keys(ru).filter((key) => !Object.hasOwn(en, key));
    expect(extra).toEqual([]);
  });

  test.each(keys)('%s uses the same {placeholders} as English', (key) => {
    expect(placeholders(ru[key] ?? '')).toEqual(placeholders(en[key]));
  });
});
