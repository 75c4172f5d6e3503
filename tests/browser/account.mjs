// The account page in a real browser, at desktop width and at a phone's
// (390x844): sign in at /login from /account, allow an app through an
// authorization request (so that it shows under "Connected apps"), revoke
// it, sign out. Fails on any console error or page error, and on a
// horizontal scrollbar at 390 px on any page on the way.
//
// Run by run.sh, which starts `tollgate serve --demo` and passes:
//   TOLLGATE_BASE        the server's base URL (also its issuer)
//   DEMO_USERNAME        the demo user printed by `serve --demo`
//   DEMO_PASSWORD        its password
//   ACCOUNT_CLIENT_FILE  `tollgate client create --json` output of the app,
//                        whose redirect URI (a free loopback port) this
//                        script answers
//   ARTIFACTS_DIR        where screenshots go (on failure; and on success
//                        too when SCREENSHOT_ON_SUCCESS is set)
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = need('TOLLGATE_BASE');
const username = need('DEMO_USERNAME');
const password = need('DEMO_PASSWORD');
const registered = JSON.parse(readFileSync(need('ACCOUNT_CLIENT_FILE'), 'utf8'));
const artifacts = need('ARTIFACTS_DIR');
const APP_NAME = 'Account Check App';
// A 2-core machine shared with builds: be patient, but not forever.
const STEP_TIMEOUT_MS = 30_000;
// RFC 7636 Appendix B: the code is never redeemed, only the consent matters.
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

function need(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`account: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

// As docs_authorize.mjs: no sandbox as root, no GPU, no background traffic.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const VIEWPORTS = [
  { label: 'desktop', width: 1280, height: 900, phone: false },
  { label: 'phone', width: 390, height: 844, phone: true },
];

const done = [];
const problems = [];
const trail = [];

/// Fails at a phone's width when the page scrolls sideways.
async function fits(page, viewport, what) {
  if (!viewport.phone) return;
  const { scroll, inner } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
  }));
  if (scroll > inner) {
    throw new Error(`${what} scrolls sideways at ${inner} px: it is ${scroll} px wide`);
  }
}

async function walk(browser, viewport) {
  const context = await browser.newContext({
    viewport: { width: viewport.width, height: viewport.height },
    isMobile: viewport.phone,
    hasTouch: viewport.phone,
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const label = viewport.label;
  context.on('response', (resp) => {
    const url = new URL(resp.url());
    trail.push(`[${label}] ${resp.request().method()} ${url.pathname}${url.search ? '?…' : ''} -> ${resp.status()}`);
  });
  context.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`[${label}] console error: ${msg.text()}`);
  });
  const page = await context.newPage();
  page.on('pageerror', (err) => problems.push(`[${label}] page error: ${err.message}`));
  try {
    // Signed out, /account sends the person to sign in and back.
    await page.goto(`${base}/account`);
    if (new URL(page.url()).pathname !== '/login') {
      throw new Error(`/account did not lead to /login but to ${page.url()}`);
    }
    await fits(page, viewport, 'the login page');
    await page.fill('input[name="username"]', username);
    await page.fill('input[name="password"]', password);
    await Promise.all([page.waitForURL(`${base}/account`), page.click('button[type="submit"]')]);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.getByText('this device').waitFor();
    await fits(page, viewport, 'the account page');
    done.push(`[${label}] signed in at /login and came back to /account`);

    // An app asks for access, and the person allows it.
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: registered.client_id,
      redirect_uri: redirectUri,
      scope: 'blog:read',
      state: 'account-check',
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
    });
    await page.goto(`${base}/oauth/authorize?${query}`);
    await page.locator('button[name="decision"][value="allow"]').waitFor();
    await fits(page, viewport, 'the consent page');
    if (!(await page.locator('a[href="/account"]').count())) {
      throw new Error('the consent page does not link to /account');
    }
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(redirectUri)),
      page.click('button[name="decision"][value="allow"]'),
    ]);
    if (!new URL(page.url()).searchParams.get('code')) {
      throw new Error('allowing the app brought no code back');
    }
    done.push(`[${label}] allowed ${APP_NAME} on the consent page`);

    // The account page lists it; revoke it.
    await page.goto(`${base}/account`);
    const app = page.locator('ul.items > li', { hasText: APP_NAME });
    await app.waitFor();
    await app.getByText('Read blog posts').waitFor();
    await fits(page, viewport, 'the account page with a connected app');
    if (process.env.SCREENSHOT_ON_SUCCESS) {
      await page.screenshot({ path: join(artifacts, `account-${label}.png`), fullPage: true });
    }
    await Promise.all([
      page.waitForURL(/done=app/),
      app.getByRole('button', { name: 'Revoke access' }).click(),
    ]);
    await page.getByText("The app's access was revoked").waitFor();
    // Other checks of run.sh may have connected other apps: only this one must go.
    if (await page.locator('ul.items > li', { hasText: APP_NAME }).count()) {
      throw new Error(`${APP_NAME} is still listed after revoking it`);
    }
    done.push(`[${label}] revoked ${APP_NAME}; it is no longer listed`);

    // Sign out.
    await Promise.all([
      page.waitForURL(`${base}/logout`),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    await fits(page, viewport, 'the signed-out page');
    await page.goto(`${base}/account`);
    if (new URL(page.url()).pathname !== '/login') {
      throw new Error('after signing out, /account did not ask to sign in again');
    }
    done.push(`[${label}] signed out; /account asks to sign in again`);

    await page.goto(`${base}/`);
    await fits(page, viewport, 'the home page');
    if (process.env.SCREENSHOT_ON_SUCCESS) {
      await page.screenshot({ path: join(artifacts, `account-${label}-home.png`), fullPage: true });
    }
  } catch (err) {
    await page
      .screenshot({ path: join(artifacts, `account-${label}-failed.png`), fullPage: true })
      .catch(() => {});
    throw err;
  } finally {
    await context.close().catch(() => {});
  }
}

const redirectUri = registered.redirect_uris[0];
// The app: only its redirect URI, where the person lands after allowing it.
const appServer = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end('<!doctype html><title>App</title><p>Back at the app.</p>');
});
await new Promise((resolve) => appServer.listen(Number(new URL(redirectUri).port), '127.0.0.1', resolve));

let failed = false;
let browser;
try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  for (const viewport of VIEWPORTS) {
    await walk(browser, viewport);
  }
  if (problems.length) throw new Error(`the pages logged errors:\n  ${problems.join('\n  ')}`);
  if (process.env.SCREENSHOT_ON_SUCCESS) for (const line of done) console.log(`    - ${line}`);
} catch (err) {
  failed = true;
  console.error(`\naccount FAILED: ${err.message}`);
  console.error(`done before that:\n  ${done.join('\n  ') || '(nothing)'}`);
  console.error(`requests:\n  ${trail.slice(-30).join('\n  ')}`);
  console.error(`screenshots in ${artifacts}`);
} finally {
  await browser?.close().catch(() => {});
  appServer.close();
}

// The closing line .ci/run adds to its count.
console.log(failed ? 'browser: 0 passed, 1 failed' : 'browser: 1 passed, 0 failed');
process.exit(failed ? 1 : 0);
