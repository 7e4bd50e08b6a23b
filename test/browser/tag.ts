/** The tag of every test that drives a real browser: the skip reporter counts them. */
export const BROWSER_TAG = { name: 'browser', description: 'drives a real Chromium (test/browser/chromium.ts finds it)' };
