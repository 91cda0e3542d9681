import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, chromiumProblem } from './chromium-path.js';

/**
 * Headless Chromium (with a new empty profile, which playwright makes) and the
 * flags this sandbox needs: no sandbox (tests run as root), and no background
 * traffic to Google's hosts, which the closed network would refuse many times over.
 */
export async function launchChromium(): Promise<Browser> {
  // The global setup says so once for the whole run; this is for a browser test started some other way.
  const problem = chromiumProblem();
  if (problem) throw new Error(problem);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
