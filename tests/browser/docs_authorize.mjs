// The docs explorer's "Authorize" button in a real browser: Swagger UI at
// /docs runs the authorization code flow with PKCE for the first-party demo
// client, the popup signs in on our login page, and "Try it out" on
// GET /api/v1/posts then answers 200 with the token it got. Then the same
// with the password grant, the contract's other way in for that client.
//
// Run by run.sh, which starts `tollgate serve --demo` and passes:
//   TOLLGATE_BASE      the server's base URL (also its issuer)
//   DEMO_USERNAME      the demo user printed by `serve --demo`
//   DEMO_PASSWORD      its password
//   ARTIFACTS_DIR      where screenshots go (on failure; and on success
//                      too when SCREENSHOT_ON_SUCCESS is set)
import { join } from 'node:path';
import { launchWithProfile, need as needFor } from './chromium.mjs';

const need = (name) => needFor('docs_authorize', name);
const base = need('TOLLGATE_BASE');
const username = need('DEMO_USERNAME');
const password = need('DEMO_PASSWORD');
const artifacts = need('ARTIFACTS_DIR');
// A 2-core machine shared with builds: be patient, but not forever.
const STEP_TIMEOUT_MS = 30_000;

function step(text) {
  console.log(`    - ${text}`);
}

const { context, close } = await launchWithProfile({ viewport: { width: 1280, height: 1000 } });
context.setDefaultTimeout(STEP_TIMEOUT_MS);

// What the browser saw, for the failure report.
const trail = [];
context.on('response', (resp) => {
  const url = new URL(resp.url());
  const ours = ['/oauth/', '/api/', '/docs/'].some((p) => url.pathname.startsWith(p));
  if (ours || resp.status() >= 400) {
    trail.push(`${resp.request().method()} ${url.pathname}${url.search ? '?…' : ''} -> ${resp.status()}`);
  }
});
// A 401 with a Basic challenge makes Chromium wait for credentials, so a
// refused token request shows up only as a request without a response.
context.on('request', (req) => {
  const url = new URL(req.url());
  if (url.pathname === '/oauth/token') {
    const auth = req.headers().authorization?.split(' ')[0] ?? 'no Authorization header';
    trail.push(`sent ${req.method()} ${url.pathname} (${auth})`);
  }
});
context.on('console', (msg) => {
  if (msg.type() === 'error') trail.push(`console error: ${msg.text()}`);
});

const page = context.pages()[0] ?? (await context.newPage());
let popup = null;

// Every open tab: the explorer, and the popup if it is still open.
async function screenshot(name, fullPage = true) {
  const files = [];
  for (const [i, p] of context.pages().entries()) {
    const file = join(artifacts, `${name}-${i}.png`);
    await p.screenshot({ path: file, fullPage }).catch(() => {});
    files.push(`${file} (${p.url()})`);
  }
  return files;
}

/// Ticks blog:read and blog:write in a flow's block; the demo client may
/// not ask for blog:admin.
async function tickScopes(block) {
  for (const scope of ['blog:read', 'blog:write', 'blog:admin']) {
    const box = block.locator(`input[type="checkbox"][data-value="${scope}"]`);
    const wanted = scope !== 'blog:admin';
    if ((await box.isChecked()) !== wanted) {
      // Swagger UI hides the box itself behind its label.
      const id = await box.getAttribute('id');
      await block.locator(`label[for="${id}"]`).click();
    }
    if ((await box.isChecked()) !== wanted) {
      throw new Error(`could not ${wanted ? 'tick' : 'untick'} ${scope}`);
    }
  }
}

/// The block of one OAuth2 flow in the Authorize dialog, by its heading,
/// e.g. "OAuth2 (OAuth2, password)".
function flowBlock(modal, flow) {
  return modal
    .locator('.auth-container')
    .filter({ has: modal.page().locator('h4', { hasText: new RegExp(`OAuth2, ${flow}`) }) });
}

/// Waits until `block` says Authorized, or fails with the dialog's error
/// (Swagger UI shows a failed token request there).
async function expectAuthorized(modal, block) {
  const authorized = block.locator('h6', { hasText: 'Authorized' });
  const errors = modal.locator('.errors');
  await Promise.race([authorized.waitFor(), errors.first().waitFor()]);
  const shown = (await errors.allInnerTexts()).filter((t) => t.trim());
  if (shown.length) {
    throw new Error(`the Authorize dialog shows an error: ${shown.join(' | ')}`);
  }
  await block.locator('button', { hasText: 'Logout' }).waitFor();
}

/// Executes GET /api/v1/posts under "Try it out" (already switched on)
/// and expects 200, sent with a bearer token.
async function executeListPosts(operation) {
  const clear = operation.locator('button.btn-clear');
  if (await clear.isVisible()) await clear.click();
  await operation.locator('button.execute').click();
  const status = operation.locator('.live-responses-table tr.response .response-col_status').first();
  await status.waitFor();
  const code = (await status.innerText()).trim();
  const curl = await operation.locator('.curl-command').innerText();
  if (!/Authorization: Bearer \S+/.test(curl)) {
    throw new Error(`the request was sent without the bearer token: ${curl}`);
  }
  if (code !== '200') {
    throw new Error(`GET /api/v1/posts answered ${code}, not 200`);
  }
}

/// Presses Authorize on `docs`, picks the authorization code flow with
/// blog:read and blog:write, and presses its Authorize. Returns the modal,
/// the flow's block, and the popup on /oauth/authorize with the
/// authorization request's parameters.
async function startCodeFlow(docs) {
  await docs.locator('.auth-wrapper button.authorize').click();
  const modal = docs.locator('.dialog-ux .modal-ux');
  await modal.waitFor();

  // One block per scheme and flow; take the authorization code one.
  const codeFlow = flowBlock(modal, 'authorizationCode');
  await codeFlow.waitFor();
  const shownClientId = await codeFlow.locator('input[id^="client_id"]').inputValue();
  if (shownClientId !== 'tollgate-docs-explorer') {
    throw new Error(`client_id field shows ${JSON.stringify(shownClientId)}, not the demo client`);
  }

  await tickScopes(codeFlow);

  const popupOpened = context.waitForEvent('page');
  await codeFlow.locator('button.authorize').click();
  const opened = await popupOpened;
  await opened.waitForLoadState('domcontentloaded');
  const authorizeUrl = new URL(opened.url());
  if (authorizeUrl.pathname !== '/oauth/authorize') {
    throw new Error(`the popup opened ${opened.url()}`);
  }
  const query = authorizeUrl.searchParams;
  if (query.get('code_challenge_method') !== 'S256' || !query.get('code_challenge')) {
    throw new Error(`the authorization request has no S256 PKCE challenge: ${authorizeUrl.search}`);
  }
  if (query.get('redirect_uri') !== `${base}/docs/oauth-receiver.html`) {
    throw new Error(`the explorer sent redirect_uri ${query.get('redirect_uri')}, not the registered one`);
  }
  return { modal, codeFlow, popup: opened };
}

let failed = false;
try {
  // With deep linking, a link to an operation carries a #fragment; the
  // redirect URI must still be the registered one.
  step(`open a deep link ${base}/docs#/Posts/list_posts and start the flow`);
  const deep = await context.newPage();
  await deep.goto(`${base}/docs#/Posts/list_posts`);
  await deep.locator('.swagger-ui .info .title').waitFor();
  const deepFlow = await startCodeFlow(deep);
  await deepFlow.popup.locator('input[name="username"]').waitFor();
  await deepFlow.popup.close();
  await deep.close();

  step(`open ${base}/docs`);
  await page.goto(`${base}/docs`);
  await page.locator('.swagger-ui .info .title').waitFor();

  step('press Authorize, pick authorizationCode with blog:read and blog:write, press its Authorize');
  let modal, codeFlow;
  ({ modal, codeFlow, popup } = await startCodeFlow(page));
  await popup.locator('input[name="username"]').waitFor();

  step(`sign in as ${username} (first-party: no consent page)`);
  await popup.locator('input[name="username"]').fill(username);
  await popup.locator('input[name="password"]').fill(password);
  const popupClosed = popup.waitForEvent('close', { timeout: STEP_TIMEOUT_MS });
  await popup.locator('button[type="submit"]').click();
  await popupClosed;
  popup = null;

  step('wait for Swagger UI to show the flow authorized');
  await expectAuthorized(modal, codeFlow);
  await modal.locator('button.close-modal').click();
  await modal.waitFor({ state: 'detached' });

  step('Try it out → Execute on GET /api/v1/posts');
  const operation = page
    .locator('.opblock-get')
    .filter({ has: page.locator('.opblock-summary-path', { hasText: /^\/api\/v1\/posts$/ }) });
  await operation.locator('.opblock-summary').first().click();
  await operation.locator('button.try-out__btn').click();
  await executeListPosts(operation);
  step('the explorer got 200 with its bearer token');

  // The contract's other way in for the first-party demo client. Swagger
  // UI sends the client id as HTTP Basic with an empty secret by default.
  step('Logout, then Authorize with the password flow (client credentials location left as is)');
  await page.locator('.auth-wrapper button.authorize').click();
  await modal.waitFor();
  await codeFlow.locator('button', { hasText: 'Logout' }).click();
  const passwordFlow = flowBlock(modal, 'password');
  await passwordFlow.locator('#oauth_username').fill(username);
  await passwordFlow.locator('#oauth_password').fill(password);
  const shownPasswordClient = await passwordFlow.locator('input[id^="client_id"]').inputValue();
  if (shownPasswordClient !== 'tollgate-docs-explorer') {
    throw new Error(`the password flow's client_id shows ${JSON.stringify(shownPasswordClient)}`);
  }
  await tickScopes(passwordFlow);
  await passwordFlow.locator('button.authorize').click();
  await expectAuthorized(modal, passwordFlow);
  await modal.locator('button.close-modal').click();
  await modal.waitFor({ state: 'detached' });
  await executeListPosts(operation);
  step('the explorer got 200 again, with the password grant\'s token');
  if (process.env.SCREENSHOT_ON_SUCCESS) {
    await operation.locator('.live-responses-table').scrollIntoViewIfNeeded();
    const files = await screenshot('docs-authorize-passed', false);
    console.log(`    screenshot: ${files.join(', ')}`);
  }
} catch (err) {
  failed = true;
  console.error(`\ndocs_authorize FAILED: ${err.message}`);
  const files = await screenshot('docs-authorize-failed');
  console.error(`screenshots: ${files.join(', ') || '(none)'}`);
  console.error('what the browser saw:');
  for (const line of trail) console.error(`  ${line}`);
} finally {
  await close();
}

// The closing line .ci/run adds to its count.
console.log(failed ? 'browser: 0 passed, 1 failed' : 'browser: 1 passed, 0 failed');
process.exit(failed ? 1 : 0);
