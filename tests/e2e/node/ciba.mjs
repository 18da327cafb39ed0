// A hospital DPI asking Pro Santé Connect for a professional's login with CIBA (poll mode),
// written only with openid-client: discovery, backchannel authentication request, polling of
// the token endpoint until the professional has decided, ID token checks.
//
//   node ciba.mjs --issuer URL --client-id ID --login-hint NATIONAL_ID
//                 (--secret=SECRET | --cert FILE --key FILE --ca FILE)
//                 [--channel MOBILE|CARD] [--acr eidas1] [--binding-message 42]
//                 [--scope "openid scope_all"] [--request-key JWK]
//
// With --secret the client authenticates with client_secret_basic; with --cert/--key it uses
// tls_client_auth on the mTLS endpoint aliases of the discovery document, the TLS connection
// presenting the ORG AUTH_CLI certificate and trusting --ca (the PKI's CA bundle).
//
// With --request-key (the client's private EC P-256 JWK, with its `kid`), the parameters travel
// as a signed authentication request (CIBA Core §7.1.1): one `request` JWS, ES256, with iss,
// aud, exp, iat, nbf and jti, signed here with WebCrypto; openid-client sends it as the only
// parameter beside the client's authentication.
//
// Nothing here approves the request: the professional (or a test, in parallel) does.
//
// Progress goes to stderr as JSON lines ({"event": "initiated" | "poll", …}) so that a caller
// can wait for the first `authorization_pending` before approving. The final report is one JSON
// object on stdout; the exit status is 1 at the first unexpected answer.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import * as client from "openid-client";

import { mtlsFetch } from "./mtls-fetch.mjs";

const CIBA_GRANT = "urn:openid:params:grant-type:ciba";
const HTTP_TIMEOUT_S = 15;
const ACR_BY_CHANNEL = { MOBILE: "eidas1", CARD: "eidas3" };

const { values: args } = parseArgs({
  options: {
    issuer: { type: "string" },
    "client-id": { type: "string" },
    secret: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    ca: { type: "string" },
    "login-hint": { type: "string" },
    channel: { type: "string", default: "MOBILE" },
    acr: { type: "string" },
    "binding-message": { type: "string" },
    scope: { type: "string", default: "openid scope_all" },
    "request-key": { type: "string" },
  },
});

const started = Date.now();
const elapsed = () => Date.now() - started;
const report = {
  issuer: args.issuer,
  client_id: args["client-id"],
  client_auth: args.cert ? "tls_client_auth" : "client_secret_basic",
  channel: args.channel,
  polls: [],
  timings: {},
};

class CibaError extends Error {}

function fail(message, details = {}) {
  throw Object.assign(new CibaError(message), { details });
}

function expect(condition, message, details) {
  if (!condition) fail(message, details);
}

function progress(event) {
  process.stderr.write(`${JSON.stringify({ ...event, ms: elapsed() })}\n`);
}

// Every answer to a CIBA poll is noted (openid-client retries pending polls internally).
function observingFetch(inner) {
  return async (url, options = {}) => {
    const response = await inner(url, options);
    const form = typeof options.body === "string" || options.body instanceof URLSearchParams
      ? new URLSearchParams(options.body)
      : null;
    if (form?.get("grant_type") === CIBA_GRANT) {
      let error = null;
      if (response.status !== 200) {
        error = (await response.clone().json().catch(() => ({}))).error ?? `HTTP ${response.status}`;
      }
      const poll = { ms: elapsed(), status: response.status, error, url: String(url) };
      report.polls.push(poll);
      progress({ event: "poll", status: response.status, error });
    }
    return response;
  };
}

// The access token is a JWT at PSC; its signature is the resource server's business.
function accessTokenClaims(token) {
  try {
    return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
  } catch {
    return {};
  }
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
      cause instanceof Error ? { name: cause.name, message: cause.message } : String(cause);
  }
  return described;
}

async function step(name, action) {
  const begun = Date.now();
  try {
    return await action();
  } catch (error) {
    error.step ??= name;
    throw error;
  } finally {
    report.timings[`${name}_ms`] = Date.now() - begun;
  }
}

// The signed authentication request: `parameters` and the JWT's claims, ES256 (WebCrypto's
// ECDSA signature is the JWS one, r || s).
async function signedRequest(parameters, issuer, clientId) {
  const jwk = JSON.parse(args["request-key"]);
  const key = await crypto.subtle.importKey(
    "jwk",
    jwk,
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign"],
  );
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    ...parameters,
    iss: clientId,
    aud: issuer,
    iat: now,
    nbf: now,
    exp: now + 60,
    jti: crypto.randomUUID(),
  };
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${encode({ alg: "ES256", kid: jwk.kid })}.${encode(claims)}`;
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    key,
    new TextEncoder().encode(input),
  );
  return `${input}.${Buffer.from(signature).toString("base64url")}`;
}

async function main() {
  expect(
    args.issuer && args["client-id"] && args["login-hint"] && (args.secret || args.cert),
    "usage: node ciba.mjs --issuer URL --client-id ID --login-hint NATIONAL_ID " +
      "(--secret S | --cert F --key F --ca F) [--channel MOBILE|CARD]",
  );
  const mtls = Boolean(args.cert);
  let baseFetch = fetch;
  let metadata = {};
  let authentication;
  if (mtls) {
    expect(args.key && args.ca, "tls_client_auth needs --cert, --key and --ca");
    baseFetch = mtlsFetch({
      cert: readFileSync(args.cert),
      key: readFileSync(args.key),
      ca: readFileSync(args.ca),
    });
    metadata = { use_mtls_endpoint_aliases: true };
    authentication = client.TlsClientAuth();
  } else {
    metadata = { client_secret: args.secret };
    authentication = client.ClientSecretBasic(args.secret);
  }

  const config = await step("discovery", () =>
    client.discovery(new URL(args.issuer), args["client-id"], metadata, authentication, {
      execute: [client.allowInsecureRequests],
      timeout: HTTP_TIMEOUT_S,
      [client.customFetch]: observingFetch(baseFetch),
    }),
  );
  // The ID token's signature is checked against the JWKS too, not only its claims.
  client.enableNonRepudiationChecks(config);
  const server = config.serverMetadata();
  const aliases = server.mtls_endpoint_aliases ?? {};
  report.discovery = {
    backchannel_authentication_endpoint: server.backchannel_authentication_endpoint,
    token_endpoint: server.token_endpoint,
    backchannel_token_delivery_modes_supported: server.backchannel_token_delivery_modes_supported,
    grant_types_supported: server.grant_types_supported,
    mtls_endpoint_aliases: aliases,
    backchannel_authentication_request_signing_alg_values_supported:
      server.backchannel_authentication_request_signing_alg_values_supported,
  };
  expect(
    server.grant_types_supported?.includes(CIBA_GRANT),
    "discovery: the CIBA grant type is not advertised",
  );
  expect(
    server.backchannel_token_delivery_modes_supported?.includes("poll"),
    "discovery: poll mode is not advertised",
  );
  report.endpoints = {
    backchannel_authentication: mtls
      ? aliases.backchannel_authentication_endpoint
      : server.backchannel_authentication_endpoint,
    token: mtls ? aliases.token_endpoint : server.token_endpoint,
  };
  if (mtls) {
    expect(
      report.endpoints.backchannel_authentication?.startsWith("https://") &&
        report.endpoints.token?.startsWith("https://"),
      "discovery: no https mTLS aliases for the backchannel and token endpoints",
      { mtls_endpoint_aliases: aliases },
    );
  }

  const parameters = {
    scope: args.scope,
    login_hint: args["login-hint"],
    acr_values: args.acr ?? ACR_BY_CHANNEL[args.channel] ?? "eidas1",
    channel: args.channel, // PSC's own parameter, passed on as is
  };
  if (args["binding-message"]) parameters.binding_message = args["binding-message"];
  const sent = args["request-key"]
    ? { request: await signedRequest(parameters, server.issuer, args["client-id"]) }
    : parameters;
  report.sent_parameters = Object.keys(sent).sort();
  const initiated = await step("initiate", () =>
    client.initiateBackchannelAuthentication(config, sent),
  );
  report.request = {
    has_auth_req_id: typeof initiated.auth_req_id === "string",
    expires_in: initiated.expires_in,
    interval: initiated.interval,
    binding_message: parameters.binding_message ?? null,
    keys: Object.keys(initiated).sort(),
  };
  report.timings.initiated_at_ms = elapsed();
  progress({ event: "initiated", expires_in: initiated.expires_in, interval: initiated.interval });

  const tokens = await step("poll", () =>
    client.pollBackchannelAuthenticationGrant(config, initiated),
  );
  report.timings.tokens_at_ms = elapsed();
  const claims = tokens.claims();
  expect(claims, "tokens: no ID token");
  report.tokens = {
    token_type: tokens.token_type,
    expires_in: tokens.expires_in,
    scope: tokens.scope,
    has_refresh_token: Boolean(tokens.refresh_token),
    has_session_state: Boolean(tokens.session_state),
    response_keys: Object.keys(tokens).sort(),
  };
  report.id_token = claims;
  report.access_token_cnf = accessTokenClaims(tokens.access_token).cnf ?? null;

  // What the DPI relies on: who, how, when.
  expect(claims.iss === server.issuer, `id_token: iss ${claims.iss}`);
  expect(
    [claims.aud].flat().includes(args["client-id"]),
    `id_token: aud ${JSON.stringify(claims.aud)}`,
  );
  expect(claims.SubjectNameID === args["login-hint"], `id_token: SubjectNameID ${claims.SubjectNameID}`);
  expect(claims.sub.endsWith(`:${args["login-hint"]}`), `id_token: sub ${claims.sub}`);
  expect(claims.authMode === args.channel, `id_token: authMode ${claims.authMode}, not ${args.channel}`);
  expect(
    claims.acr === ACR_BY_CHANNEL[args.channel],
    `id_token: acr ${claims.acr} for channel ${args.channel}`,
  );
  expect(
    typeof claims.auth_time === "number" && claims.auth_time * 1000 >= started - 2000,
    `id_token: auth_time ${claims.auth_time} is before the request`,
  );
  const pollAnswers = report.polls.map((poll) => poll.error ?? "tokens");
  expect(pollAnswers.at(-1) === "tokens", "polls: the last poll did not return the tokens");
  expect(
    pollAnswers.slice(0, -1).every((answer) => answer === "authorization_pending" || answer === "slow_down"),
    `polls: unexpected answers ${JSON.stringify(pollAnswers)}`,
  );
}

try {
  await main();
  report.ok = true;
  report.timings.total_ms = elapsed();
  process.stdout.write(`${JSON.stringify(report)}\n`);
} catch (error) {
  report.ok = false;
  report.timings.total_ms = elapsed();
  report.failure = { step: error?.step, ...describe(error) };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.stderr.write(
    `ciba failed at step ${error?.step ?? "?"}: ${error?.message}\n` +
      `${JSON.stringify(report.failure, null, 2)}\n`,
  );
  process.exitCode = 1;
}
