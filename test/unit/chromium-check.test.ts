import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { browserTestFiles, chromiumProblem } from '../support/chromium-path.js';

describe('the Chromium check of the test run', () => {
  test('knows which test files drive Chromium', () => {
    const files = browserTestFiles(path.resolve(import.meta.dirname, '..')).map((file) => path.basename(file));
    expect(files).toEqual(expect.arrayContaining(['network-browser.test.ts', 'browser-post.test.ts']));
    expect(files).not.toContain('metrics.test.ts');
  });

  test('a missing Chromium is one sentence that says how to install it', () => {
    expect(chromiumProblem('/nonexistent/chromium')).toBe(
      'The browser tests need Chromium and there is none at /nonexistent/chromium: install it with `apt-get install chromium` (.ci/run does), or set CHROMIUM_PATH to a Chromium binary.',
    );
  });
});
