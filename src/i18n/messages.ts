import { en, type MessageKey } from './en.js';

export type { MessageKey };
export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** Every locale NetID ships; a later locale adds a catalogue here and no template changes. */
const catalogues: Record<string, Partial<Record<MessageKey, string>>> = { en };

export const SUPPORTED_LOCALES = Object.keys(catalogues);
export const DEFAULT_LOCALE = 'en';

export function translator(locale: string): Translate {
  const catalogue = catalogues[locale] ?? en;
  return (key, params) => {
    const text = catalogue[key] ?? en[key] ?? key;
    return params ? text.replace(/\{(\w+)\}/g, (whole, name: string) => String(params[name] ?? whole)) : text;
  };
}
