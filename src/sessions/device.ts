import { parse } from 'bowser';

/** A browser as a person recognises it: its name and major version, and the operating system. */
export interface DeviceDescription {
  browser: string;
  os: string;
}

/** What a user agent says about the browser, or undefined when it says nothing recognisable. */
export function describeDevice(userAgent: string | null | undefined): DeviceDescription | undefined {
  if (!userAgent) return undefined;
  const parsed = parse(userAgent);
  const name = parsed.browser.name;
  if (!name) return undefined;
  const major = parsed.browser.version?.split('.')[0];
  const os = [parsed.os.name, parsed.os.versionName ?? parsed.os.version].filter(Boolean).join(' ');
  return { browser: major ? `${name} ${major}` : name, os: os || '?' };
}

/** One line for an email: "Chrome 141 on Linux", or the raw agent cut short when nothing is recognised. */
export function deviceLine(userAgent: string | null | undefined): string {
  const device = describeDevice(userAgent);
  if (device) return `${device.browser} (${device.os})`;
  return userAgent ? userAgent.slice(0, 80) : '?';
}
