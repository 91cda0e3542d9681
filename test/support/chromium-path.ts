import fs from 'node:fs';
import path from 'node:path';

/** Debian's Chromium (`apt-get install chromium`); playwright cannot download browsers here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** One sentence on what to install when there is no Chromium to drive, else undefined. */
export function chromiumProblem(executable = CHROMIUM): string | undefined {
  if (fs.existsSync(executable)) return undefined;
  return `The browser tests need Chromium and there is none at ${executable}: install it with \`apt-get install chromium\` (.ci/run does), or set CHROMIUM_PATH to a Chromium binary.`;
}

/** The test files that drive Chromium: those that use test/support/browser.ts. */
export function browserTestFiles(testRoot: string): string[] {
  return fs
    .readdirSync(testRoot, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => path.join(testRoot, file))
    .filter((file) => fs.readFileSync(file, 'utf8').includes("support/browser.js'"));
}
