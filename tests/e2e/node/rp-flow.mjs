// A relying party built only with openid-client, run against psc-idp.
//
//   node rp-flow.mjs <issuer> <client_id> <client_secret>
//   (or PSC_ISSUER, PSC_CLIENT_ID, PSC_CLIENT_SECRET in the environment)
//
// The professional's browser is simulated with fetch (redirects followed by hand, cookies kept
// here); everything the relying party does goes through openid-client, which checks state,
// nonce, PKCE, the `iss` authorization response parameter (RFC 9207) and the ID token signature
// against the JWKS.
//
// Prints one JSON object on stdout describing what was observed; exits 1 with a message on
// stderr (and the JSON so far, with `failure`, on stdout) at the first unexpected answer.
//
// Optional environment: PSC_REDIRECT_URI, PSC_POST_LOGOUT_REDIRECT_URI, PSC_NATIONAL_ID,
// PSC_AUTH_MODE, PSC_CLIENT_AUTH (client_secret_basic, the default, or client_secret_jwt: an
// HS256 assertion signed with the secret on every call to the server), PSC_CLAIMS (the
// `claims` parameter of the first login, as JSON), PSC_REQUEST_OBJECT (`jar`: every
// authorization request signed as a request object, RFC 9101; `par`: the same object pushed
// first, RFC 9126) with PSC_REQUEST_KEY (the client's private EC P-256 JWK, with its `kid`),
// PSC_RESPONSE_MODE (`jwt`: every authorization response a signed JWT in the query, JARM, which
// openid-client verifies against the JWKS; `form_post.jwt`: the same JWT posted by the page)
// with PSC_AUTHORIZATION_ALG (the client's authorization_signed_response_alg, which
// openid-client then requires; else any algorithm discovery advertises);
// PSC_DPOP (`1`: every token request and UserInfo call with a DPoP proof of one ES256 key,
// RFC 9449, and the first login's code bound to it with `dpop_jkt`; openid-client answers a
// server's `use_dpop_nonce` itself);
// PSC_REQUEST_ENCRYPTION (`RSA-OAEP-256/A256GCM`, say): the signed request object then encrypted to
// the server's published encryption key (RFC 9101 §6.1) with the jose package;
// PSC_DECRYPTION_KEY (the client's private RSA JWK, with its `kid` and `alg` RSA-OAEP or
// RSA-OAEP-256): openid-client decrypts the ID tokens, the UserInfo responses and, with
// PSC_RESPONSE_MODE, the encrypted JARM responses with it.

import * as jose from "jose";
import * as client from "openid-client";

const issuer = process.argv[2] ?? process.env.PSC_ISSUER;
const clientId = process.argv[3] ?? process.env.PSC_CLIENT_ID;
const clientSecret = process.argv[4] ?? process.env.PSC_CLIENT_SECRET;
const redirectUri = process.env.PSC_REDIRECT_URI ?? "http://localhost:3000/callback";
const postLogoutRedirectUri = process.env.PSC_POST_LOGOUT_REDIRECT_URI ?? "http://localhost:3000/";
const nationalId = process.env.PSC_NATIONAL_ID ?? "899700218896";
const authMode = process.env.PSC_AUTH_MODE ?? "MOBILE";
const clientAuthMethod = process.env.PSC_CLIENT_AUTH ?? "client_secret_basic";
const claimsParameter = process.env.PSC_CLAIMS;
const requestObject = process.env.PSC_REQUEST_OBJECT ?? "";
const requestKey = process.env.PSC_REQUEST_KEY;
const responseMode = process.env.PSC_RESPONSE_MODE ?? "";
const authorizationAlg = process.env.PSC_AUTHORIZATION_ALG;
const useDPoP = process.env.PSC_DPOP === "1";
const requestEncryption = process.env.PSC_REQUEST_ENCRYPTION ?? "";
const decryptionKey = process.env.PSC_DECRYPTION_KEY;
const HTTP_TIMEOUT_MS = 15000;

const report = {
  issuer,
  client_id: clientId,
  client_auth: clientAuthMethod,
  request_object: requestObject,
  response_mode: responseMode,
  dpop: useDPoP,
  steps: [],
};

class FlowError extends Error {}

function fail(message, details = {}) {
  throw Object.assign(new FlowError(message), { details });
}

function expect(condition, message, details) {
  if (!condition) fail(message, details);
}

// --- the professional's browser --------------------------------------------------------------
class Browser {
  constructor() {
    this.cookies = new Map();
  }

  cookieHeader() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  remember(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key, raw = ""] = attribute.split("=").map((part) => part.trim());
        if (key.toLowerCase() === "max-age") return Number(raw) <= 0;
        if (key.toLowerCase() === "expires") return Date.parse(raw) <= Date.now();
        return false;
      });
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(url, { method = "GET", form } = {}) {
    const headers = { accept: "text/html,application/json" };
    if (this.cookies.size) headers.cookie = this.cookieHeader();
    let body;
    if (form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(form).toString();
    }
    const response = await fetch(url, {
      method,
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    this.remember(response);
    const location = response.headers.get("location");
    return {
      status: response.status,
      location: location ? new URL(location, url) : null,
      text: await response.text(),
      url: String(url),
    };
  }

  // One redirect expected; returns its target.
  async redirected(url, options, what) {
    const answer = await this.request(url, options);
    expect(
      [302, 303].includes(answer.status) && answer.location,
      `${what}: expected a redirect, got HTTP ${answer.status}`,
      { url: answer.url, status: answer.status, body: answer.text.slice(0, 2000) },
    );
    return answer.location;
  }
}

function isCallback(url) {
  return `${url.origin}${url.pathname}` === redirectUri;
}

// A response mode's page that posts to the redirect URI, as the Request the relying party's
// server would receive from the browser; null for any other answer.
function formPostToCallback(answer) {
  const action = /<form[^>]* method="post" action="([^"]+)"/.exec(answer.text)?.[1];
  if (answer.status !== 200 || action !== redirectUri) return null;
  const fields = new URLSearchParams();
  for (const [, name, value] of answer.text.matchAll(/name="([^"]+)" value="([^"]*)"/g)) {
    fields.append(name, value.replaceAll("&amp;", "&").replaceAll("&#34;", '"'));
  }
  return new Request(redirectUri, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: fields,
  });
}

// Where the browser lands: the login page, or the callback (a redirect, or a form post).
async function arrive(browser, url, what) {
  const answer = await browser.request(url);
  const posted = formPostToCallback(answer);
  if (posted) return posted;
  expect(
    [302, 303].includes(answer.status) && answer.location,
    `${what}: expected a redirect or a form post to ${redirectUri}, got HTTP ${answer.status}`,
    { url: answer.url, status: answer.status, body: answer.text.slice(0, 2000) },
  );
  return answer.location;
}

function reachedCallback(next) {
  return next instanceof Request || isCallback(next);
}

// Drive the browser from the authorization URL to the relying party's callback.
async function browserLogin(browser, authorizationUrl) {
  let next = await arrive(browser, authorizationUrl, "authorization request");
  if (reachedCallback(next)) return { callback: next, pickerShown: false };
  expect(
    next.pathname.startsWith("/wallet/login/"),
    `authorization request: redirected to ${next} instead of the login page or the callback`,
  );
  const pickerUrl = new URL(`${next.pathname.replace(/\/$/, "")}/dev`, next);
  const picker = await browser.request(pickerUrl);
  expect(picker.status === 200, `identity picker: HTTP ${picker.status}`, {
    body: picker.text.slice(0, 2000),
  });
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(picker.text)?.[1];
  expect(csrf, "identity picker: no csrf_token in the form");
  const resume = await browser.redirected(
    pickerUrl,
    { method: "POST", form: { csrf_token: csrf, national_id: nationalId, auth_mode: authMode } },
    "identity picker submission",
  );
  expect(
    resume.pathname.startsWith("/wallet/auth/resume/"),
    `identity picker submission: redirected to ${resume} instead of /wallet/auth/resume/…`,
  );
  next = await arrive(browser, resume, "authorization resume");
  expect(reachedCallback(next), `authorization resume: redirected to ${next}, not ${redirectUri}`);
  return { callback: next, pickerShown: true };
}

async function callbackParameters(callback) {
  if (callback instanceof Request) return new URLSearchParams(await callback.clone().text());
  return callback.searchParams;
}

// The protected header of a JARM `response` (what signed it, or for an encrypted one, what
// encrypted it) and its number of segments (3: a JWS, 5: a JWE), for the report.
function responseHeader(parameters) {
  const response = parameters.get("response");
  if (!response) return null;
  const segments = response.split(".");
  const header = JSON.parse(Buffer.from(segments[0], "base64url").toString());
  return { ...header, segments: segments.length };
}

function describe(error) {
  const described = { name: error?.name, message: error?.message };
  for (const key of ["code", "error", "error_description", "status"]) {
    if (error?.[key] !== undefined) described[key] = error[key];
  }
  if (error?.details) described.details = error.details;
  if (error?.cause !== undefined) {
    const cause = error.cause;
    described.cause =
      cause instanceof Error ? { name: cause.name, message: cause.message } : cause;
  }
  return described;
}

async function step(name, action) {
  const started = Date.now();
  try {
    const observed = await action();
    report.steps.push({ step: name, ok: true, ms: Date.now() - started });
    return observed;
  } catch (error) {
    report.steps.push({ step: name, ok: false, ms: Date.now() - started });
    error.step ??= name;
    throw error;
  }
}

// A grant that must be refused with invalid_grant.
async function refusedRefresh(config, refreshToken, why) {
  try {
    await client.refreshTokenGrant(config, refreshToken, undefined, dpopOptions);
  } catch (error) {
    expect(
      error instanceof client.ResponseBodyError && error.error === "invalid_grant",
      `${why}: the refresh was refused, but not with invalid_grant`,
      describe(error),
    );
    return { refused: true, error: error.error, status: error.status };
  }
  return fail(`${why}: the refresh token still works`);
}

function clientAuthentication() {
  if (clientAuthMethod === "client_secret_jwt") return client.ClientSecretJwt(clientSecret);
  expect(clientAuthMethod === "client_secret_basic", `unknown PSC_CLIENT_AUTH ${clientAuthMethod}`);
  return client.ClientSecretBasic(clientSecret);
}

// DPoP: one key pair for the whole flow, its handle passed to every call that takes one.
let dpopOptions;

// The authorization URL: plain, or the parameters signed as a request object (by value, or
// pushed), as openid-client builds them.
let signingKey;
async function authorizationUrl(config, parameters) {
  if (!requestObject) {
    const url = client.buildAuthorizationUrl(config, parameters);
    // openid-client asks for `jwt` (the query); the same JWT may come in a form post instead.
    if (responseMode === "form_post.jwt") url.searchParams.set("response_mode", responseMode);
    return url;
  }
  // With PAR and DPoP, openid-client sends a proof with the push (RFC 9449 §10.1).
  expect(["jar", "par"].includes(requestObject), `unknown PSC_REQUEST_OBJECT ${requestObject}`);
  if (!signingKey) {
    expect(requestKey, "PSC_REQUEST_OBJECT needs PSC_REQUEST_KEY");
    const jwk = JSON.parse(requestKey);
    const key = await crypto.subtle.importKey(
      "jwk",
      jwk,
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["sign"],
    );
    signingKey = { key, kid: jwk.kid };
  }
  const signed = await client.buildAuthorizationUrlWithJAR(config, parameters, signingKey);
  if (requestEncryption) {
    signed.searchParams.set("request", await encryptToServer(config, signed.searchParams.get("request")));
  }
  if (requestObject === "jar") return signed;
  return client.buildAuthorizationUrlWithPAR(config, signed.searchParams, dpopOptions);
}

// The signed request object encrypted to the server's key (`use: enc` in its JWKS), as a
// nested JWT: RFC 9101 §6.1.
let serverEncryptionKey;
async function encryptToServer(config, signedObject) {
  const [alg, enc] = requestEncryption.split("/");
  if (!serverEncryptionKey) {
    const response = await fetch(config.serverMetadata().jwks_uri, {
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    const { keys } = await response.json();
    const jwk = keys.find((key) => key.use === "enc" && key.kty === "RSA");
    expect(jwk, "PSC_REQUEST_ENCRYPTION: the server publishes no RSA key with use enc");
    serverEncryptionKey = { key: await jose.importJWK(jwk, alg), kid: jwk.kid };
  }
  report.request_encryption = { alg, enc, kid: serverEncryptionKey.kid };
  return new jose.CompactEncrypt(new TextEncoder().encode(signedObject))
    .setProtectedHeader({ alg, enc, cty: "JWT", kid: serverEncryptionKey.kid })
    .encrypt(serverEncryptionKey.key);
}

// The client's private key for what the server encrypts to it (ID tokens, UserInfo).
let decryption;
async function enableDecryption(config) {
  if (!decryptionKey) return;
  const jwk = JSON.parse(decryptionKey);
  const hash = jwk.alg === "RSA-OAEP" ? "SHA-1" : "SHA-256";
  const key = await crypto.subtle.importKey("jwk", jwk, { name: "RSA-OAEP", hash }, false, [
    "decrypt",
    "unwrapKey",
  ]);
  client.enableDecryptingResponses(config, undefined, { key, kid: jwk.kid, alg: jwk.alg });
  decryption = await jose.importJWK(jwk, jwk.alg);
}

// What the JWE of an ID token says of itself, and the signed ID token inside: OIDC
// RP-Initiated Logout §2 has the client send that one as id_token_hint.
async function openedIdToken(idToken) {
  const segments = idToken.split(".").length;
  if (!decryption || segments !== 5) return { segments, signed: idToken };
  const { plaintext, protectedHeader } = await jose.compactDecrypt(idToken, decryption);
  return { segments, header: protectedHeader, signed: new TextDecoder().decode(plaintext) };
}

async function main() {
  expect(issuer && clientId && clientSecret, "usage: node rp-flow.mjs <issuer> <client_id> <secret>");
  const browser = new Browser();

  const config = await step("discovery", () =>
    client.discovery(
      new URL(issuer),
      clientId,
      {
        client_secret: clientSecret,
        ...(authorizationAlg ? { authorization_signed_response_alg: authorizationAlg } : {}),
      },
      clientAuthentication(),
      { execute: [client.allowInsecureRequests], timeout: HTTP_TIMEOUT_MS / 1000 },
    ),
  );
  await enableDecryption(config);
  if (responseMode) {
    expect(["jwt", "form_post.jwt"].includes(responseMode), `unknown PSC_RESPONSE_MODE ${responseMode}`);
    client.useJwtResponseMode(config);
  }
  const server = config.serverMetadata();
  report.discovery = {
    issuer: server.issuer,
    authorization_endpoint: server.authorization_endpoint,
    authorization_response_iss_parameter_supported:
      server.authorization_response_iss_parameter_supported,
    token_endpoint_auth_methods_supported: server.token_endpoint_auth_methods_supported,
    token_endpoint_auth_signing_alg_values_supported:
      server.token_endpoint_auth_signing_alg_values_supported,
    claims_parameter_supported: server.claims_parameter_supported,
    subject_types_supported: server.subject_types_supported,
    request_parameter_supported: server.request_parameter_supported,
    request_uri_parameter_supported: server.request_uri_parameter_supported,
    request_object_signing_alg_values_supported:
      server.request_object_signing_alg_values_supported,
    response_modes_supported: server.response_modes_supported,
    authorization_signing_alg_values_supported: server.authorization_signing_alg_values_supported,
    dpop_signing_alg_values_supported: server.dpop_signing_alg_values_supported,
    id_token_encryption_alg_values_supported: server.id_token_encryption_alg_values_supported,
    userinfo_encryption_alg_values_supported: server.userinfo_encryption_alg_values_supported,
    request_object_encryption_alg_values_supported:
      server.request_object_encryption_alg_values_supported,
  };
  let dpopJkt;
  if (useDPoP) {
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair("ES256"));
    dpopOptions = { DPoP };
    dpopJkt = await DPoP.calculateThumbprint();
    report.dpop_jkt = dpopJkt;
  }

  // --- first login: la mire, the test identity picker ---------------------------------------
  const first = await step("login", async () => {
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = await authorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: "openid scope_all",
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      state,
      nonce,
      acr_values: "eidas1",
      ...(claimsParameter ? { claims: claimsParameter } : {}),
      ...(dpopJkt ? { dpop_jkt: dpopJkt } : {}),
    });
    const { callback, pickerShown } = await browserLogin(browser, url);
    const parameters = await callbackParameters(callback);
    report.login = {
      picker_shown: pickerShown,
      callback_parameters: [...parameters.keys()].sort(),
      response_header: responseHeader(parameters),
      callback_method: callback instanceof Request ? callback.method : "GET",
      authorization_parameters: [...url.searchParams.keys()].sort(),
    };
    return { callback, codeVerifier, state, nonce };
  });

  const tokens = await step("authorization_code_grant", () =>
    client.authorizationCodeGrant(config, first.callback, {
      pkceCodeVerifier: first.codeVerifier,
      expectedState: first.state,
      expectedNonce: first.nonce,
      idTokenExpected: true,
    }, undefined, dpopOptions),
  );
  const idClaims = tokens.claims();
  report.tokens = {
    token_type: tokens.token_type,
    expires_in: tokens.expires_in,
    scope: tokens.scope,
    has_refresh_token: Boolean(tokens.refresh_token),
    response_keys: Object.keys(tokens).sort(),
  };
  report.id_token = idClaims;
  const openedFirst = await openedIdToken(tokens.id_token);
  report.id_token_jwe = { segments: openedFirst.segments, header: openedFirst.header ?? null };

  const userinfo = await step("userinfo", () =>
    client.fetchUserInfo(config, tokens.access_token, idClaims.sub, dpopOptions),
  );
  report.userinfo = userinfo;
  report.userinfo_keys = Object.keys(userinfo).sort();

  // --- refresh, introspection, revocation ---------------------------------------------------
  const refreshed = await step("refresh", () =>
    client.refreshTokenGrant(config, tokens.refresh_token, undefined, dpopOptions),
  );
  expect(refreshed.refresh_token, "refresh: no new refresh token in the response");
  report.refresh = {
    ok: true,
    rotated: refreshed.refresh_token !== tokens.refresh_token,
    new_access_token: refreshed.access_token !== tokens.access_token,
    id_token_sub: refreshed.id_token ? refreshed.claims()?.sub : null,
    token_type: refreshed.token_type,
    id_token_segments: refreshed.id_token ? refreshed.id_token.split(".").length : null,
  };

  report.introspection = await step("introspection", () =>
    client.tokenIntrospection(config, refreshed.access_token),
  );

  await step("revocation", () => client.tokenRevocation(config, refreshed.refresh_token));
  report.revocation = {
    ok: true,
    next_refresh: await step("refresh_after_revocation", () =>
      refusedRefresh(config, refreshed.refresh_token, "after revocation"),
    ),
  };

  // --- second login: single sign-on, no picker ----------------------------------------------
  const second = await step("sso_login", async () => {
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = await authorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: "openid scope_all",
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      state,
      nonce,
      acr_values: "eidas1",
    });
    const { callback, pickerShown } = await browserLogin(browser, url);
    report.sso_login = { picker_shown: pickerShown };
    expect(!pickerShown, "second login: the SSO session was ignored, the picker was shown again");
    return { callback, codeVerifier, state, nonce };
  });
  const ssoTokens = await step("sso_authorization_code_grant", () =>
    client.authorizationCodeGrant(config, second.callback, {
      pkceCodeVerifier: second.codeVerifier,
      expectedState: second.state,
      expectedNonce: second.nonce,
      idTokenExpected: true,
    }, undefined, dpopOptions),
  );
  const ssoClaims = ssoTokens.claims();
  Object.assign(report.sso_login, {
    sub: ssoClaims.sub,
    same_sid: ssoClaims.sid === idClaims.sid,
    same_auth_time: ssoClaims.auth_time === idClaims.auth_time,
    authMode: ssoClaims.authMode,
    acr: ssoClaims.acr,
  });

  // --- RP-initiated logout ------------------------------------------------------------------
  const logoutState = client.randomState();
  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: (await openedIdToken(ssoTokens.id_token)).signed,
    post_logout_redirect_uri: postLogoutRedirectUri,
    state: logoutState,
  });
  const landed = await step("logout", () =>
    browser.redirected(endSession, {}, "end-session request"),
  );
  report.logout = {
    redirected_to: `${landed.origin}${landed.pathname}`,
    state_returned: landed.searchParams.get("state") === logoutState,
    session_cookie_left: browser.cookies.has("PSC_SESSION"),
  };
  expect(
    report.logout.redirected_to === postLogoutRedirectUri,
    `logout: redirected to ${landed}, not ${postLogoutRedirectUri}`,
  );
  expect(report.logout.state_returned, `logout: state not returned (${landed})`);
  report.logout.refresh_after_logout = await step("refresh_after_logout", () =>
    refusedRefresh(config, ssoTokens.refresh_token, "after logout"),
  );
  report.logout.introspection_after_logout = await step("introspection_after_logout", () =>
    client.tokenIntrospection(config, ssoTokens.access_token),
  );

  // The browser's session is over: the next authorization request shows la mire again.
  report.logout.picker_after_logout = await step("login_after_logout", async () => {
    const url = await authorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: "openid scope_all",
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: "S256",
      state: client.randomState(),
      nonce: client.randomNonce(),
    });
    const next = await browser.redirected(url, {}, "authorization request after logout");
    return next.pathname.startsWith("/wallet/login/");
  });
}

try {
  await main();
  report.ok = true;
  process.stdout.write(`${JSON.stringify(report)}\n`);
} catch (error) {
  report.ok = false;
  report.failure = { step: error?.step, ...describe(error) };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.stderr.write(
    `rp-flow failed at step ${error?.step ?? "?"}: ${error?.message}\n` +
      `${JSON.stringify(report.failure, null, 2)}\n`,
  );
  process.exitCode = 1;
}
