// A small OpenID Connect relying party for oidc_rp.mjs, built the way a
// real one is: openid-client (the certified RP library) for discovery, the
// authorization request, the form_post callback, UserInfo and RP-Initiated
// Logout; jose for the Back-Channel Logout token. Nothing here trusts
// Tollgate beyond what those libraries check.
//
//   GET  /            "Sign in" link, or straight to /me when signed in
//   GET  /login       starts a sign-in: PKCE S256, nonce, state, form_post
//   POST /callback    the form_post authorization response
//   GET  /me          the ID token's and UserInfo's claims, and "Sign out"
//   GET  /signed-out  where the end-session endpoint sends the person back
//   POST /backchannel Back-Channel Logout: verifies and records the token
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import escapeHtml from 'escape-html';
import * as jose from 'jose';
import * as client from 'openid-client';

const SCOPE = 'openid profile email';
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const MAX_BODY_BYTES = 64 * 1024;

/// Discovers `issuer`, then listens on 127.0.0.1:`port`. Resolves to a
/// handle for the browser driver: the RP's base URL, what it has seen, and
/// close().
export async function startRelyingParty({ issuer, clientId, clientSecret, port }) {
  // The check runs on loopback http, which openid-client refuses unless
  // told; `execute` applies it before discovery's own request.
  const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
    timeout: 10,
  });
  const metadata = config.serverMetadata();
  if (!metadata.end_session_endpoint) {
    throw new Error('the discovery document has no end_session_endpoint');
  }
  const jwks = jose.createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: 10_000 });

  const base = `http://127.0.0.1:${port}`;
  const redirectUri = `${base}/callback`;
  const postLogoutRedirectUri = `${base}/signed-out`;

  // Keyed by a random cookie value: sign-ins in progress, and sessions.
  const transactions = new Map();
  const sessions = new Map();
  const seen = {
    /// Back-Channel Logout tokens: { claims } when verified, { error } if not.
    logoutTokens: [],
    /// Requests the RP refused or failed, for the failure report.
    errors: [],
    /// The claims of the last ID token accepted.
    lastIdToken: null,
  };

  async function startSignIn(res) {
    const codeVerifier = client.randomPKCECodeVerifier();
    const txn = {
      codeVerifier,
      state: client.randomState(),
      nonce: client.randomNonce(),
    };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: txn.state,
      nonce: txn.nonce,
      response_mode: 'form_post',
    });
    const id = newId();
    transactions.set(id, txn);
    // Lax is enough here: the form_post comes from Tollgate on 127.0.0.1
    // too, and a site ignores the port, so the POST is same-site. A real
    // RP on another site would need SameSite=None; Secure.
    res.setHeader('Set-Cookie', cookie('rp_txn', id));
    redirect(res, url.href);
  }

  async function finishSignIn(req, res, cookies) {
    const txn = transactions.get(cookies.rp_txn);
    if (!txn) {
      return refuse(res, 400, 'the form_post arrived without a sign-in in progress (no rp_txn cookie)');
    }
    transactions.delete(cookies.rp_txn);
    const body = await readBody(req);
    const request = new Request(redirectUri, {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? '' },
      body,
    });
    // Checks state, iss (RFC 9207), then redeems the code with the PKCE
    // verifier and validates the ID token, nonce included.
    const tokens = await client.authorizationCodeGrant(config, request, {
      pkceCodeVerifier: txn.codeVerifier,
      expectedState: txn.state,
      expectedNonce: txn.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    seen.lastIdToken = claims;
    const id = newId();
    sessions.set(id, { claims, userinfo, idToken: tokens.id_token, logoutState: null });
    res.setHeader('Set-Cookie', [cookie('rp_session', id), cookie('rp_txn', '', 0)]);
    redirect(res, '/me');
  }

  function showClaims(res, session) {
    session.logoutState = client.randomState();
    const signOut = client.buildEndSessionUrl(config, {
      id_token_hint: session.idToken,
      post_logout_redirect_uri: postLogoutRedirectUri,
      state: session.logoutState,
    });
    page(
      res,
      200,
      'Signed in',
      `<h1>Signed in</h1>
<h2>ID token</h2>${claimsTable('id-token', session.claims)}
<h2>UserInfo</h2>${claimsTable('userinfo', session.userinfo)}
<p><a id="sign-out" href="${escapeHtml(signOut.href)}">Sign out</a></p>`,
    );
  }

  function finishSignOut(res, url, cookies) {
    const session = sessions.get(cookies.rp_session);
    if (!session) {
      return refuse(res, 400, 'back from signing out without an RP session');
    }
    const state = url.searchParams.get('state');
    if (state !== session.logoutState) {
      return refuse(res, 400, `signed-out state ${JSON.stringify(state)} is not the one sent`);
    }
    sessions.delete(cookies.rp_session);
    res.setHeader('Set-Cookie', cookie('rp_session', '', 0));
    page(res, 200, 'Signed out', '<h1 id="signed-out">signed out</h1><p><a href="/">Home</a></p>');
  }

  // Back-Channel Logout 1.0 §2.6: how the RP validates a logout token.
  async function backchannelLogout(req, res) {
    const token = new URLSearchParams(await readBody(req)).get('logout_token');
    try {
      if (!token) throw new Error('no logout_token in the POSTed form');
      const { payload } = await jose.jwtVerify(token, jwks, {
        issuer: metadata.issuer,
        audience: clientId,
        typ: 'logout+jwt',
        requiredClaims: ['iat', 'exp', 'jti', 'sid', 'sub', 'events'],
      });
      const event = payload.events?.[BACKCHANNEL_EVENT];
      if (typeof event !== 'object' || event === null || Array.isArray(event)) {
        throw new Error(`events has no ${BACKCHANNEL_EVENT} member that is a JSON object`);
      }
      // §2.4: "A nonce Claim MUST NOT be present."
      if ('nonce' in payload) throw new Error('the logout token carries a nonce');
      seen.logoutTokens.push({ claims: payload });
      for (const [id, s] of sessions) {
        if (s.claims.sid === payload.sid) sessions.delete(id);
      }
    } catch (err) {
      seen.logoutTokens.push({ error: err.message });
      // §2.8: a token the RP cannot validate gets a 400.
      return sendJson(res, 400, { error: 'invalid_request', error_description: err.message });
    }
    // §2.8: 200 on success, and not cached.
    res.writeHead(200, { 'Cache-Control': 'no-store' }).end();
  }

  async function route(req, res) {
    const url = new URL(req.url, base);
    const cookies = parseCookies(req.headers.cookie);
    const key = `${req.method} ${url.pathname}`;
    switch (key) {
      case 'GET /': {
        if (sessions.has(cookies.rp_session)) return redirect(res, '/me');
        return page(res, 200, 'Browser RP', '<h1>Browser RP</h1><p><a id="sign-in" href="/login">Sign in</a></p>');
      }
      case 'GET /login':
        return startSignIn(res);
      case 'POST /callback':
        return finishSignIn(req, res, cookies);
      case 'GET /me': {
        const session = sessions.get(cookies.rp_session);
        if (!session) return redirect(res, '/');
        return showClaims(res, session);
      }
      case 'GET /favicon.ico':
        return res.writeHead(204).end();
      case 'GET /signed-out':
        return finishSignOut(res, url, cookies);
      case 'POST /backchannel':
        return backchannelLogout(req, res);
      default:
        return refuse(res, 404, `no route for ${key}`);
    }
  }

  function refuse(res, status, reason) {
    seen.errors.push(`${status}: ${reason}`);
    page(res, status, 'RP error', `<h1>RP error</h1><p id="rp-error">${escapeHtml(reason)}</p>`);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err) => {
      if (!res.headersSent) refuse(res, 500, describe(err));
      else seen.errors.push(`after the response: ${describe(err)}`);
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });

  return {
    base,
    redirectUri,
    seen,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/// An openid-client or jose error with what it knows: its code, the
/// server's OAuth error and status, and its cause with tokens left out.
function describe(err) {
  const parts = [`${err.name}: ${err.message}`];
  for (const key of ['code', 'status', 'error', 'error_description']) {
    if (err[key] !== undefined) parts.push(`${key}=${JSON.stringify(err[key])}`);
  }
  if (err.cause instanceof Response) {
    parts.push(`; the response: HTTP ${err.cause.status} from ${err.cause.url}`);
  } else if (err.cause instanceof Error) {
    parts.push(`; caused by ${describe(err.cause)}`);
  } else if (err.cause && typeof err.cause === 'object') {
    const noTokens = (key, value) => (/token|secret|code$/i.test(key) && typeof value === 'string' ? '[left out]' : value);
    parts.push(`cause=${JSON.stringify(err.cause, noTokens)}`);
  }
  return parts.join(' ');
}

function claimsTable(id, claims) {
  const rows = Object.entries(claims).map(([name, value]) => {
    const shown = typeof value === 'string' ? value : JSON.stringify(value);
    return `<tr data-claim="${escapeHtml(name)}"><th>${escapeHtml(name)}</th><td>${escapeHtml(shown)}</td></tr>`;
  });
  return `<table id="${id}">${rows.join('')}</table>`;
}

function page(res, status, title, body) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`);
}

function sendJson(res, status, value) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(value));
}

function redirect(res, location) {
  res.writeHead(303, { Location: location, 'Cache-Control': 'no-store' }).end();
}

function newId() {
  return randomBytes(16).toString('base64url');
}

function cookie(name, value, maxAge) {
  const age = maxAge === undefined ? '' : `; Max-Age=${maxAge}`;
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax${age}`;
}

// Our own cookies only: base64url values, so no quoting or decoding.
function parseCookies(header) {
  const cookies = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return cookies;
}

async function readBody(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
