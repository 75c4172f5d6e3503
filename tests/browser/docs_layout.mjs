// The docs explorer fits a phone and a desktop: /docs at 390x844 and at
// 1280x1000 must have no horizontal scrollbar (with an operation opened
// and with the Authorize dialog open too), no console errors, our title,
// and no text meant for developers in the Authorize dialog.
//
// Run by run.sh, which starts `tollgate serve --demo` and passes:
//   TOLLGATE_BASE      the server's base URL
//   ARTIFACTS_DIR      where screenshots go (on failure; and on success
//                      too when SCREENSHOT_ON_SUCCESS is set)
import { join } from 'node:path';
import { launchWithProfile, need as needFor } from './chromium.mjs';

const need = (name) => needFor('docs_layout', name);
const base = need('TOLLGATE_BASE');
const artifacts = need('ARTIFACTS_DIR');
const STEP_TIMEOUT_MS = 30_000;
const TITLE = 'Tollgate API docs';
const SIZES = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 1000 },
];
// Words for Tollgate's or Swagger UI's developers, not for the person
// authorizing: code comments that once leaked into the Authorize dialog,
// and Swagger UI's own "grant to Swagger UI".
const DEVELOPER_TEXT = [/RFC \d+/, /relative to the server/i, /\bissuer\b/i, /mirrors/i, /`/, /--demo/, /Swagger UI/];

function step(text) {
  console.log(`    - ${text}`);
}

const { context, close } = await launchWithProfile();
context.setDefaultTimeout(STEP_TIMEOUT_MS);

const consoleErrors = [];
context.on('console', (msg) => {
  if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${msg.location().url})`);
});
context.on('weberror', (err) => consoleErrors.push(`uncaught: ${err.error().message}`));

/// Fails when the page scrolls sideways, naming the widest elements.
async function expectNoHorizontalScroll(page, where) {
  const overflow = await page.evaluate(() => {
    const width = window.innerWidth;
    const scroll = document.documentElement.scrollWidth;
    if (scroll <= width) return null;
    const wide = [...document.querySelectorAll('body *')]
      .map((el) => ({ el, right: el.getBoundingClientRect().right }))
      .filter(({ right }) => right > width + 1)
      .sort((a, b) => b.right - a.right)
      .slice(0, 5)
      .map(({ el, right }) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} ends at ${Math.round(right)}px`);
    return { width, scroll, wide };
  });
  if (overflow) {
    throw new Error(
      `${where}: scrolls sideways (scrollWidth ${overflow.scroll}px > innerWidth ${overflow.width}px); ` +
        `widest: ${overflow.wide.join('; ')}`,
    );
  }
}

async function checkAt(page, size) {
  const where = `/docs at ${size.width}x${size.height}`;
  await page.setViewportSize({ width: size.width, height: size.height });
  step(`open ${where}`);
  await page.goto(`${base}/docs`);
  await page.locator('.swagger-ui .info .title').waitFor();
  await page.locator('.opblock-summary').first().waitFor();

  const title = await page.title();
  if (title !== TITLE) throw new Error(`${where}: the title is ${JSON.stringify(title)}, not ${TITLE}`);
  const viewport = await page.locator('meta[name="viewport"]').getAttribute('content');
  if (!viewport?.includes('width=device-width')) {
    throw new Error(`${where}: no viewport meta tag with width=device-width (${viewport})`);
  }
  await expectNoHorizontalScroll(page, where);

  step(`${where}: open GET /api/v1/posts, Try it out, Execute (without credentials: 401)`);
  const operation = page.locator('.opblock-get').first();
  await operation.locator('.opblock-summary').click();
  await operation.locator('.opblock-body').waitFor();
  await expectNoHorizontalScroll(page, `${where}, an operation opened`);
  await operation.locator('button.try-out__btn').click();
  const refused = page.waitForResponse((r) => r.url().endsWith('/api/v1/posts'));
  await operation.locator('button.execute').click();
  if ((await refused).status() !== 401) throw new Error(`${where}: Execute without credentials was not refused`);
  await operation.locator('.live-responses-table').waitFor();
  // Chromium reports the refused request it was asked to make.
  const expected = consoleErrors.findIndex((e) => e.includes('status of 401'));
  if (expected >= 0) consoleErrors.splice(expected, 1);
  await expectNoHorizontalScroll(page, `${where}, a response shown`);

  step(`${where}: open the Authorize dialog`);
  await page.locator('.auth-wrapper button.authorize').click();
  const modal = page.locator('.dialog-ux .modal-ux');
  await modal.waitFor();
  await expectNoHorizontalScroll(page, `${where}, the Authorize dialog open`);
  const box = await modal.boundingBox();
  if (!box || box.x < 0 || box.x + box.width > size.width + 1) {
    throw new Error(`${where}: the Authorize dialog does not fit the screen (${JSON.stringify(box)})`);
  }
  const text = await modal.innerText();
  for (const phrase of DEVELOPER_TEXT) {
    if (phrase.test(text)) {
      throw new Error(`${where}: the Authorize dialog shows text meant for developers (${phrase}):\n${text}`);
    }
  }
  for (const needed of ['X-API-Key', 'OAuth2']) {
    if (!text.includes(needed)) throw new Error(`${where}: the Authorize dialog does not mention ${needed}`);
  }
  if (process.env.SCREENSHOT_ON_SUCCESS) {
    await page.screenshot({ path: join(artifacts, `docs-layout-${size.name}-dialog.png`) });
  }
  await modal.locator('button.close-modal').click();
  await modal.waitFor({ state: 'detached' });

  if (consoleErrors.length) {
    throw new Error(`${where}: console errors:\n  ${consoleErrors.join('\n  ')}`);
  }
}

const page = context.pages()[0] ?? (await context.newPage());
let failed = false;
try {
  for (const size of SIZES) {
    await checkAt(page, size);
  }
  step('no sideways scrolling, no console errors, no developer text, at either width');
} catch (err) {
  failed = true;
  console.error(`\ndocs_layout FAILED: ${err.message}`);
  const file = join(artifacts, 'docs-layout-failed.png');
  await page.screenshot({ path: file, fullPage: true }).catch(() => {});
  console.error(`screenshot: ${file}`);
} finally {
  await close();
}

// The closing line .ci/run adds to its count.
console.log(failed ? 'browser: 0 passed, 1 failed' : 'browser: 1 passed, 0 failed');
process.exit(failed ? 1 : 0);
