// A relying party signs a person in to Tollgate and out again, in a real
// browser. The RP (rp_server.mjs) uses openid-client: discovery, PKCE S256,
// nonce, state and response_mode=form_post, the code grant, UserInfo, and
// RP-Initiated Logout; it verifies the Back-Channel Logout token with jose.
// Headless Chromium plays the person: sign in, consent (the RP is a
// third-party client), the auto-submitting form_post page, the claims, sign
// out, and the back-channel token with the ID token's sid. Then the person
// must be asked to sign in again, and, with JavaScript off, the form_post
// page's visible button must still get them back to the RP.
//
// Run by run.sh, which starts `tollgate serve --demo`, registers the RP with
// `tollgate client create ... --json` and passes:
//   TOLLGATE_BASE      the server's base URL (also its issuer)
//   DEMO_USERNAME      the demo user printed by `serve --demo`
//   DEMO_PASSWORD      its password
//   RP_PORT            the free port the RP listens on
//   RP_CLIENT_FILE     the JSON `client create --json` printed
//   ARTIFACTS_DIR      where screenshots go (on failure; and on success
//                      too when SCREENSHOT_ON_SUCCESS is set)
// Quiet on success: the steps done are printed only when one fails.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH, need as needFor } from './chromium.mjs';
import { startRelyingParty } from './rp_server.mjs';

const need = (name) => needFor('oidc_rp', name);
const base = need('TOLLGATE_BASE');
const username = need('DEMO_USERNAME');
const password = need('DEMO_PASSWORD');
const rpPort = Number(need('RP_PORT'));
const registered = JSON.parse(readFileSync(need('RP_CLIENT_FILE'), 'utf8'));
const artifacts = need('ARTIFACTS_DIR');
// A 2-core machine shared with builds: be patient, but not forever.
const STEP_TIMEOUT_MS = 30_000;
const BACKCHANNEL_TIMEOUT_MS = 10_000;
const WHOLE_CHECK_MS = 240_000;

const done = [];
function step(text) {
  done.push(text);
}

// What the browser saw, for the failure report; no query strings, which
// carry tokens and state.
const trail = [];
function watch(context, label) {
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.on('response', (resp) => {
    const url = new URL(resp.url());
    trail.push(`[${label}] ${resp.request().method()} ${url.origin}${url.pathname}${url.search ? '?…' : ''} -> ${resp.status()}`);
  });
  context.on('console', (msg) => {
    if (msg.type() === 'error') trail.push(`[${label}] console error: ${msg.text()}`);
  });
}

const deadline = setTimeout(() => {
  console.error(`\noidc_rp FAILED: the whole check took over ${WHOLE_CHECK_MS / 1000}s`);
  report();
  console.log('browser: 0 passed, 1 failed');
  process.exit(1);
}, WHOLE_CHECK_MS);

let rp = null;
let browser = null;
const contexts = [];

async function screenshot(name) {
  const files = [];
  for (const [c, context] of contexts.entries()) {
    for (const [i, p] of context.pages().entries()) {
      const file = join(artifacts, `${name}-${c}-${i}.png`);
      await p.screenshot({ path: file, fullPage: true }).catch(() => {});
      files.push(`${file} (${p.url().split('?')[0]})`);
    }
  }
  return files;
}

function report() {
  console.error('steps done:');
  for (const line of done) console.error(`  - ${line}`);
  if (rp) {
    console.error('what the RP refused or failed:');
    for (const line of rp.seen.errors) console.error(`  ${line}`);
    console.error(`back-channel logout tokens: ${JSON.stringify(rp.seen.logoutTokens)}`);
  }
  console.error('what the browsers saw:');
  for (const line of trail) console.error(`  ${line}`);
}

/// Waits for Tollgate's sign-in page in `page`.
async function expectSignInPage(page, why) {
  try {
    await page.locator('input[name="username"]').waitFor();
  } catch {
    throw new Error(`${why}: no sign-in page, the browser is on ${page.url().split('?')[0]}`);
  }
  if (new URL(page.url()).origin !== base) {
    throw new Error(`${why}: the sign-in form is on ${page.url()}, not on Tollgate`);
  }
}

async function signIn(page) {
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('button[type="submit"]').click();
}

/// The authorization request the RP sent must ask for what the brief says.
function checkAuthorizeRequest(url) {
  const q = new URL(url).searchParams;
  const want = {
    client_id: registered.client_id,
    redirect_uri: rp.redirectUri,
    response_type: 'code',
    response_mode: 'form_post',
    scope: 'openid profile email',
    code_challenge_method: 'S256',
  };
  for (const [name, value] of Object.entries(want)) {
    if (q.get(name) !== value) {
      throw new Error(`the authorization request has ${name}=${q.get(name)}, not ${value}`);
    }
  }
  for (const name of ['code_challenge', 'state', 'nonce']) {
    if (!q.get(name)) throw new Error(`the authorization request has no ${name}`);
  }
}

/// Opens the RP and presses "Sign in"; returns the authorization request's URL.
async function startAtRp(page) {
  await page.goto(`${rp.base}/`);
  const authorize = page.waitForRequest((r) => new URL(r.url()).pathname === '/oauth/authorize');
  await page.locator('#sign-in').click();
  return (await authorize).url();
}

/// The claims page must show the demo user's profile and email claims,
/// both from the ID token and from UserInfo.
async function expectClaims(page) {
  await expectRpPage(page, '#id-token', "the RP's claims page");
  const want = { preferred_username: username, name: 'Demo User', email: 'demo@example.com' };
  for (const table of ['id-token', 'userinfo']) {
    for (const [claim, value] of Object.entries(want)) {
      const cell = page.locator(`#${table} tr[data-claim="${claim}"] td`);
      const shown = (await cell.count()) ? await cell.innerText() : '(missing)';
      if (shown !== value) {
        throw new Error(`the ${table} claim ${claim} is ${JSON.stringify(shown)}, not ${JSON.stringify(value)}`);
      }
    }
  }
}

/// Waits for `selector` on an RP page, or fails at once with what the RP
/// refused.
async function expectRpPage(page, selector, what) {
  const refusal = page.locator('#rp-error');
  try {
    await page.locator(selector).or(refusal).first().waitFor();
  } catch {
    throw new Error(`did not land on ${what} (the browser is on ${page.url().split('?')[0]})`);
  }
  if (await refusal.count()) {
    throw new Error(`did not land on ${what}: the RP says ${await refusal.innerText()}`);
  }
}

/// Bounded wait for a verified Back-Channel Logout token for the ID
/// token's sid and sub.
async function expectLogoutToken({ sid, sub }) {
  const until = Date.now() + BACKCHANNEL_TIMEOUT_MS;
  while (Date.now() < until) {
    const refused = rp.seen.logoutTokens.find((t) => t.error);
    if (refused) throw new Error(`the RP refused the back-channel logout token: ${refused.error}`);
    const token = rp.seen.logoutTokens.find((t) => t.claims.sid === sid);
    if (token && token.claims.sub !== sub) {
      throw new Error(`the logout token's sub ${token.claims.sub} is not the ID token's ${sub}`);
    }
    if (token) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const sids = rp.seen.logoutTokens.map((t) => t.claims.sid);
  throw new Error(`no back-channel logout token for sid ${sid} within ${BACKCHANNEL_TIMEOUT_MS / 1000}s (got sids ${JSON.stringify(sids)})`);
}

let failed = false;
try {
  rp = await startRelyingParty({
    issuer: base,
    clientId: registered.client_id,
    clientSecret: registered.client_secret,
    port: rpPort,
  });
  step(`RP on ${rp.base} discovered ${base}`);

  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const withJs = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  contexts.push(withJs);
  watch(withJs, 'js');
  const page = await withJs.newPage();

  checkAuthorizeRequest(await startAtRp(page));
  await expectSignInPage(page, 'after "Sign in" at the RP');
  step('the RP sent an authorization request with PKCE S256, nonce, state and form_post');

  await signIn(page);
  const allow = page.locator('button[name="decision"][value="allow"]');
  try {
    await allow.waitFor();
  } catch {
    throw new Error(`no consent page for the third-party RP after signing in (on ${page.url().split('?')[0]})`);
  }
  const consentText = await page.locator('body').innerText();
  if (!consentText.includes('Browser RP')) throw new Error('the consent page does not name "Browser RP"');
  step(`signed in as ${username}; the consent page names Browser RP`);

  // With JavaScript on, the form_post page submits itself.
  await allow.click();
  await expectClaims(page);
  const idToken = rp.seen.lastIdToken;
  if (!idToken?.sid) throw new Error('the ID token has no sid');
  step('allowed; the form_post page brought the person back; claims shown');

  await page.locator('#sign-out').click();
  await expectRpPage(page, '#signed-out', "the RP's /signed-out page after signing out");
  step('"Sign out" went through the end-session endpoint back to /signed-out with its state');

  await expectLogoutToken(idToken);
  step('a verified back-channel logout token arrived with the ID token\'s sid');

  await startAtRp(page);
  await expectSignInPage(page, 'signing in again after signing out (the session should have ended)');
  step('after signing out, the person is asked to sign in again');

  const noJs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1100, height: 900 } });
  contexts.push(noJs);
  watch(noJs, 'no-js');
  const plain = await noJs.newPage();
  await startAtRp(plain);
  await expectSignInPage(plain, 'with JavaScript off, after "Sign in" at the RP');
  await signIn(plain);
  // Consent may be remembered from the first sign-in; allow if asked.
  const formPost = plain.locator(`form[action="${rp.redirectUri}"]`);
  const consentOrForm = plain.locator('button[name="decision"][value="allow"]').or(formPost);
  await consentOrForm.first().waitFor();
  if (await plain.locator('button[name="decision"][value="allow"]').count()) {
    await plain.locator('button[name="decision"][value="allow"]').click();
  }
  try {
    await formPost.waitFor();
  } catch {
    throw new Error(`with JavaScript off, no form posting to ${rp.redirectUri} (on ${plain.url().split('?')[0]})`);
  }
  if (new URL(plain.url()).origin !== base) {
    throw new Error(`with JavaScript off, the form_post form is on ${plain.url()}, not on Tollgate`);
  }
  const button = formPost.locator('button, input[type="submit"]');
  if (!(await button.count()) || !(await button.first().isVisible())) {
    throw new Error('with JavaScript off, the form_post page shows no button to continue');
  }
  await button.first().click();
  await expectClaims(plain);
  step('with JavaScript off, the form_post page\'s button brought the person back; claims shown');

  if (process.env.SCREENSHOT_ON_SUCCESS) {
    for (const line of done) console.log(`    - ${line}`);
    const files = await screenshot('oidc-rp-passed');
    console.log(`    screenshots: ${files.join(', ')}`);
  }
} catch (err) {
  failed = true;
  console.error(`\noidc_rp FAILED: ${err.message}`);
  const files = await screenshot('oidc-rp-failed');
  console.error(`screenshots: ${files.join(', ') || '(none)'}`);
  report();
} finally {
  clearTimeout(deadline);
  await browser?.close().catch(() => {});
  await rp?.close().catch(() => {});
}

// The closing line .ci/run adds to its count.
console.log(failed ? 'browser: 0 passed, 1 failed' : 'browser: 1 passed, 0 failed');
process.exit(failed ? 1 : 0);
