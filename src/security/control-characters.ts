/**
 * Control characters no address, protocol parameter or single-line field of
 * NetID ever needs. PostgreSQL refuses U+0000 in text and jsonb outright, so
 * one reaching a query is a failed request; the others only make trouble
 * (log injection, invisible differences between names). Tab, LF and CR are
 * left alone in protocol parameters, where a `claims` JSON may be pretty-printed.
 */
const RAW = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
/** The same characters percent-encoded, as they arrive in a URL or a form body. */
const ENCODED = /%(?:0[0-8BCEbce]|1[0-9A-Fa-f]|7[Ff])/;

/** True when a raw URL or url-encoded body would decode to a control character. */
export function carriesControlCharacters(raw: string): boolean {
  return RAW.test(raw) || ENCODED.test(raw);
}

/** Every C0 and C1 control, DEL, and the Unicode line and paragraph separators. */
const SINGLE_LINE_FORBIDDEN = /[\p{Cc}\u2028\u2029]/u;

/** A name, an email, a phone: text on one line without control characters. */
export function isSingleLineText(value: string): boolean {
  return !SINGLE_LINE_FORBIDDEN.test(value);
}
