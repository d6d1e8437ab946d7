// Renders a report.html to a full-page PNG in headless Chromium (for a quick look without a browser):
//   npx tsx scripts/screenshot-report.ts runs/quickstart/report.html /tmp/report.png
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/browser.js';

const [html, png] = process.argv.slice(2);
if (!html || !png) throw new Error('usage: screenshot-report.ts <report.html> <out.png>');
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
await page.goto(pathToFileURL(html).href);
await page.screenshot({ path: png, fullPage: true });
await browser.close();
console.log(png);
