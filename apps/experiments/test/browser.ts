// Headless Chromium (Debian `chromium`) for the report test and the screenshot script.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: the report browser test needs Debian's chromium (apt-get install chromium)`,
    );
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface PageCheck {
  consoleErrors: string[];
  brokenImages: string[];
  svgs: number;
  images: number;
  title: string;
}

/** Opens a local HTML file and collects console errors, page errors and images that did not load. */
export async function checkPage(browser: Browser, file: string): Promise<PageCheck> {
  const page = await browser.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('requestfailed', (r) => consoleErrors.push(`request failed: ${r.url().slice(0, 80)}`));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  const brokenImages = await page.$$eval('img', (imgs) =>
    (imgs as { complete: boolean; naturalWidth: number; alt: string; src: string }[])
      .filter((i) => !i.complete || i.naturalWidth === 0)
      .map((i) => i.alt || i.src.slice(0, 60)),
  );
  const svgs = await page.$$eval('svg', (s) => s.length);
  const images = await page.$$eval('img', (s) => s.length);
  const title = await page.title();
  await page.close();
  return { consoleErrors, brokenImages, svgs, images, title };
}
