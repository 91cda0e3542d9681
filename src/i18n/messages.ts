import { en, type MessageKey } from './en.js';
import { ru } from './ru.js';

export type { MessageKey };
export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** Every locale NetID ships; a later locale adds a catalogue here and no template changes. */
const catalogues: Record<string, Partial<Record<MessageKey, string>>> = { en, ru };

export const SUPPORTED_LOCALES = Object.keys(catalogues);
export const DEFAULT_LOCALE = 'en';

/** The profile's own locale when it has one NetID speaks, else the browser's choice. */
export function chooseLocale(profileLocale: string | null | undefined, acceptLanguage: () => string | false): string {
  if (profileLocale && profileLocale in catalogues) return profileLocale;
  return acceptLanguage() || DEFAULT_LOCALE;
}

export function translator(locale: string): Translate {
  const catalogue = catalogues[locale] ?? en;
  return (key, params) => {
    const text = catalogue[key] ?? en[key] ?? key;
    return params ? text.replace(/\{(\w+)\}/g, (whole, name: string) => String(params[name] ?? whole)) : text;
  };
}

export function isMessageKey(value: unknown): value is MessageKey {
  return typeof value === 'string' && Object.hasOwn(en, value);
}

/** How long to wait, as a person reads it: seconds while under two minutes, then whole minutes. */
export function formatWait(t: Translate, seconds: number): string {
  const whole = Math.max(1, Math.ceil(seconds));
  if (whole === 1) return t('wait.one_second');
  return whole < 120 ? t('wait.seconds', { seconds: whole }) : t('wait.minutes', { minutes: Math.ceil(whole / 60) });
}
