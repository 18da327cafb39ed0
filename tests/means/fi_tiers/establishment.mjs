// node-oidc-provider as an establishment's identity provider (FI Tiers), for tests/means/fi_tiers.
//
// Usage: node establishment.mjs   with, in the environment,
//   FI_PORT              port on 127.0.0.1
//   FI_CLIENT_ID         psc-idp's client at the establishment (client_secret_basic)
//   FI_CLIENT_SECRET     its secret
//   FI_CLIENT_JWKS       instead of the secret: psc-idp's published JWKS (JSON), the client then
//                        authenticating with private_key_jwt
//   FI_REDIRECT_URI      psc-idp's callback
//   FI_POST_LOGOUT_URI   psc-idp's return from the establishment's logout (end_session)
//   FI_RP_LOGOUT         0: no RP-initiated logout (no end_session_endpoint advertised)
//   OIDC_PROVIDER_DIR    folder where `npm install oidc-provider` was run
//
// The establishment's login form is one route: GET /interaction/<uid>/login?account=&amr=&tid=
// logs in `account` (its `sub`) with the given `amr` (comma separated) and tenant `tid`, grants
// the requested scopes and goes back to the authorization flow.
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const port = Number(env('FI_PORT'));
const entry = path.join(env('OIDC_PROVIDER_DIR'), 'node_modules', 'oidc-provider', 'lib', 'index.js');
const { default: Provider } = await import(pathToFileURL(entry).href);
const issuer = `http://localhost:${port}`;
const tenants = new Map();

const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const provider = new Provider(issuer, {
  clients: [{
    client_id: env('FI_CLIENT_ID'),
    ...(process.env.FI_CLIENT_JWKS
      ? { token_endpoint_auth_method: 'private_key_jwt', jwks: JSON.parse(process.env.FI_CLIENT_JWKS) }
      : { token_endpoint_auth_method: 'client_secret_basic', client_secret: env('FI_CLIENT_SECRET') }),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [env('FI_REDIRECT_URI')],
    post_logout_redirect_uris: [env('FI_POST_LOGOUT_URI')],
  }],
  jwks: { keys: [{ ...rsa.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: crypto.randomUUID() }] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  pkce: { required: () => true },
  scopes: ['openid', 'profile'],
  // amr under openid: node-oidc-provider puts in the ID token the claims of its scopes.
  claims: { openid: ['sub', 'tid', 'amr'] },
  conformIdTokenClaims: false,
  findAccount: async (ctx, accountId) => ({
    accountId,
    claims: async () => ({ sub: accountId, tid: tenants.get(accountId) }),
  }),
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: process.env.FI_RP_LOGOUT !== '0' },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});

const callback = provider.callback();
http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  const login = url.pathname.match(/^\/interaction\/([^/]+)\/login$/);
  if (!login) {
    if (url.pathname.startsWith('/interaction/')) {
      // The establishment's login form (the browser test fills it in).
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
<title>SSO de l'établissement</title>
<form method="get" action="${url.pathname}/login">
  <label>Compte <input name="account"></label>
  <label>Facteurs <input name="amr" value="pwd,mfa"></label>
  <label>Organisation <input name="tid" value="chu"></label>
  <button type="submit">Se connecter</button>
</form>`);
      return;
    }
    callback(req, res);
    return;
  }
  try {
    const details = await provider.interactionDetails(req, res);
    const accountId = url.searchParams.get('account');
    tenants.set(accountId, url.searchParams.get('tid') || undefined);
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    const amr = (url.searchParams.get('amr') || '').split(',').filter(Boolean);
    await provider.interactionFinished(req, res, {
      login: { accountId, amr },
      consent: { grantId },
    }, { mergeWithLastSubmission: false });
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
  }
}).listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
