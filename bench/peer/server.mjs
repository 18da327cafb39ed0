// node-oidc-provider configured like psc-idp for the side-by-side benchmark (bench/peer.py).
//
// Usage: node server.mjs   with, in the environment,
//   BENCH_PORT           port on 127.0.0.1
//   BENCH_CLIENT_ID      the one confidential client (client_secret_basic)
//   BENCH_CLIENT_SECRET  its secret
//   BENCH_ADMIN_TOKEN    bearer token of the preparation route /bench/prepare
//   BENCH_CLAIMS_FILE    JSON: the userinfo document served for every account (scope_all)
//   OIDC_PROVIDER_DIR    folder where `npm install oidc-provider` was run
//
// Tokens: RS256 JWT access tokens for client_credentials (resource indicator), opaque access
// tokens elsewhere (introspection refuses JWTs), refresh tokens rotated, CIBA in poll mode whose
// requests stay pending (nobody is notified). Storage: the in-memory adapter.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const port = Number(env('BENCH_PORT'));
const clientId = env('BENCH_CLIENT_ID');
const clientSecret = env('BENCH_CLIENT_SECRET');
const adminToken = env('BENCH_ADMIN_TOKEN');
const claims = JSON.parse(fs.readFileSync(env('BENCH_CLAIMS_FILE'), 'utf8'));
const entry = path.join(env('OIDC_PROVIDER_DIR'), 'node_modules', 'oidc-provider', 'lib', 'index.js');
const { default: Provider } = await import(pathToFileURL(entry).href);

const API = 'urn:psc-bench:api';
const issuer = `http://localhost:${port}`;

function signingKeys() {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  return [
    { ...rsa.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: crypto.randomUUID() },
    { ...ec.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: crypto.randomUUID() },
  ];
}

const configuration = {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [
      'authorization_code', 'refresh_token', 'client_credentials',
      'urn:openid:params:grant-type:ciba',
    ],
    response_types: ['code'],
    redirect_uris: ['http://localhost:3000/callback'],
    backchannel_token_delivery_mode: 'poll',
    scope: 'openid scope_all offline_access api',
  }],
  jwks: { keys: signingKeys() },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', 'scope_all', 'api'],
  claims: { openid: ['sub'], scope_all: Object.keys(claims).filter((name) => name !== 'sub') },
  findAccount: async (ctx, accountId) => ({
    accountId,
    claims: async () => ({ ...claims, sub: accountId }),
  }),
  rotateRefreshToken: true,
  ttl: {
    AccessToken: 3600,
    ClientCredentials: 3600,
    IdToken: 120,
    RefreshToken: 86400,
    Grant: 86400,
    BackchannelAuthenticationRequest: 600,
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Only client_credentials gets the API (a JWT access token); the others stay opaque.
      defaultResource: (ctx) => (ctx.oidc.params?.grant_type === 'client_credentials' ? API : undefined),
      useGrantedResource: () => false,
      getResourceServerInfo: () => ({
        scope: 'api',
        accessTokenFormat: 'jwt',
        accessTokenTTL: 3600,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
    ciba: {
      enabled: true,
      deliveryModes: ['poll'],
      processLoginHint: async (ctx, loginHint) => loginHint,
      validateBindingMessage: async () => {},
      validateRequestContext: async () => {},
      verifyUserCode: async () => {},
      // Nobody is asked: the requests stay pending, as in psc-idp's scenario "ignore".
      triggerAuthenticationDevice: async () => {},
    },
  },
};

const provider = new Provider(issuer, configuration);

// Tokens the timed phases need, minted as an authorization-code login would leave them.
async function prepare(kind, count, accountId) {
  const client = await provider.Client.find(clientId);
  const values = [];
  for (let i = 0; i < count; i += 1) {
    const grant = new provider.Grant({ accountId, clientId });
    grant.addOIDCScope('openid scope_all offline_access');
    const grantId = await grant.save();
    const common = { accountId, client, grantId, gty: 'authorization_code' };
    if (kind === 'refresh') {
      const now = Math.floor(Date.now() / 1000);
      const token = new provider.RefreshToken({
        ...common, scope: 'openid scope_all offline_access', iiat: now, authTime: now,
      });
      values.push(await token.save());
    } else {
      values.push(await new provider.AccessToken({ ...common, scope: 'openid scope_all' }).save());
    }
  }
  return values;
}

const callback = provider.callback();
http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname !== '/bench/prepare') {
    callback(req, res);
    return;
  }
  const expected = Buffer.from(`Bearer ${adminToken}`);
  const given = Buffer.from(req.headers.authorization || '');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
    res.writeHead(401).end();
    return;
  }
  const kind = url.searchParams.get('kind') === 'refresh' ? 'refresh' : 'access';
  const count = Math.min(Number(url.searchParams.get('count')) || 1, 100000);
  const values = await prepare(kind, count, url.searchParams.get('sub') || 'bench');
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(values));
}).listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
