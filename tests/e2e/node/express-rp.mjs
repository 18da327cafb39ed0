// A relying party as an express application with openid-client (v6), at the library's defaults:
// discovery, client_secret_post (openid-client's default for a client with a secret), PKCE S256,
// state, the ID token checked, UserInfo checked against the ID token's sub.
//
//   PSC_ISSUER=… RP_CLIENT_ID=… RP_CLIENT_SECRET=… RP_PORT=… node express-rp.mjs
//
// The only deviation from openid-client's defaults is the one an http issuer needs in
// development: `execute: [client.allowInsecureRequests]`. Prints `listening on <url>` when ready.
// Sessions live in this process, keyed by a cookie (a real application would use a store).

import crypto from "node:crypto";
import express from "express";
import * as client from "openid-client";

const issuer = process.env.PSC_ISSUER;
const clientId = process.env.RP_CLIENT_ID;
const clientSecret = process.env.RP_CLIENT_SECRET;
const port = Number(process.env.RP_PORT);
const baseUrl = `http://localhost:${port}`;
const COOKIE = "express_rp";

const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, {
  execute: [client.allowInsecureRequests],
});
const sessions = new Map();

function fingerprint(value) {
  return value ? crypto.createHash("sha256").update(value).digest("hex").slice(0, 16) : null;
}

function sessionOf(req, res) {
  const sid = /(?:^|;\s*)express_rp=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
  if (sid && sessions.has(sid)) return sessions.get(sid);
  const fresh = { sid: crypto.randomBytes(16).toString("hex") };
  sessions.set(fresh.sid, fresh);
  res.setHeader("Set-Cookie", `${COOKIE}=${fresh.sid}; Path=/; HttpOnly; SameSite=Lax`);
  return fresh;
}

async function described(session) {
  const { tokens, sub } = session;
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, sub);
  return {
    userinfo,
    id_token_claims: session.idClaims,
    access_token: fingerprint(tokens.access_token),
    refresh_token: fingerprint(tokens.refresh_token),
  };
}

// Express 5 passes a rejected promise to the error handler below.
const app = express();

app.get("/login", async (req, res) => {
  const session = sessionOf(req, res);
  session.codeVerifier = client.randomPKCECodeVerifier();
  session.state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: `${baseUrl}/callback`,
    scope: "openid email",
    code_challenge: await client.calculatePKCECodeChallenge(session.codeVerifier),
    code_challenge_method: "S256",
    state: session.state,
  });
  res.redirect(url.href);
});

app.get("/callback", async (req, res) => {
  const session = sessionOf(req, res);
  const tokens = await client.authorizationCodeGrant(config, new URL(req.originalUrl, baseUrl), {
    pkceCodeVerifier: session.codeVerifier,
    expectedState: session.state,
  });
  Object.assign(session, { tokens, idClaims: tokens.claims(), sub: tokens.claims().sub });
  res.redirect("/me");
});

app.get("/me", async (req, res) => {
  const session = sessionOf(req, res);
  if (!session.tokens) return res.status(401).json({ error: "not logged in" });
  res.json(await described(session));
});

app.get("/refresh", async (req, res) => {
  const session = sessionOf(req, res);
  if (!session.tokens) return res.status(401).json({ error: "not logged in" });
  const previousIdToken = session.tokens.id_token;
  session.tokens = await client.refreshTokenGrant(config, session.tokens.refresh_token);
  session.tokens.id_token ??= previousIdToken;
  res.json(await described(session));
});

app.get("/logout", (req, res) => {
  const session = sessionOf(req, res);
  const url = client.buildEndSessionUrl(config, {
    id_token_hint: session.tokens?.id_token,
    post_logout_redirect_uri: `${baseUrl}/bye`,
    state: client.randomState(),
  });
  sessions.delete(session.sid);
  res.redirect(url.href);
});

app.get("/bye", (req, res) => res.type("text/plain").send("Déconnecté"));

app.use((error, req, res, next) => {
  res.status(500).json({
    error: error?.error ?? error?.name,
    error_description: error?.error_description ?? error?.message,
    cause: error?.cause?.message ?? null,
  });
});

app.listen(port, "127.0.0.1", () => process.stdout.write(`listening on ${baseUrl}\n`));
