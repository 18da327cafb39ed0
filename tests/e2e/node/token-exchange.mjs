// An LPS exchanging its PSC access token at an API's authorization server (RFC 8693) and
// calling the API, written only with openid-client: discovery of the API's issuer,
// tls_client_auth on its mTLS aliases, the token-exchange grant, the protected resource call
// with the certificate the token is bound to, then the same call without a certificate.
//
//   node token-exchange.mjs --issuer API_ISSUER --client-id ID --cert FILE --key FILE --ca FILE
//        --subject-token PSC_ACCESS_TOKEN [--actor-token JWT] --resource URL [--scope demo]
//
// One JSON report on stdout; the exit status is 1 at the first unexpected answer.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import * as client from "openid-client";

import { mtlsFetch } from "./mtls-fetch.mjs";

const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token";
const JWT = "urn:ietf:params:oauth:token-type:jwt";

const { values: args } = parseArgs({
  options: {
    issuer: { type: "string" },
    "client-id": { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    ca: { type: "string" },
    "subject-token": { type: "string" },
    "actor-token": { type: "string" },
    resource: { type: "string" },
    scope: { type: "string", default: "demo" },
  },
});

async function main() {
  const ca = readFileSync(args.ca);
  const withCertificate = mtlsFetch({
    cert: readFileSync(args.cert),
    key: readFileSync(args.key),
    ca,
  });
  const config = await client.discovery(
    new URL(args.issuer),
    args["client-id"],
    { use_mtls_endpoint_aliases: true },
    client.TlsClientAuth(),
    { execute: [client.allowInsecureRequests], [client.customFetch]: withCertificate },
  );
  const server = config.serverMetadata();
  if (!server.grant_types_supported?.includes(TOKEN_EXCHANGE)) {
    throw new Error("discovery: token exchange is not advertised");
  }
  const parameters = {
    subject_token: args["subject-token"],
    subject_token_type: ACCESS_TOKEN,
    subject_issuer: "psc",
    scope: args.scope,
  };
  if (args["actor-token"]) {
    parameters.actor_token = args["actor-token"];
    parameters.actor_token_type = JWT;
  }
  const tokens = await client.genericGrantRequest(config, TOKEN_EXCHANGE, parameters);
  const resource = new URL(args.resource);
  const answer = await client.fetchProtectedResource(config, tokens.access_token, resource, "GET");
  // The same token without the certificate it is bound to.
  const bare = await mtlsFetch({ ca })(resource, {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  const report = {
    token_endpoint: server.mtls_endpoint_aliases?.token_endpoint ?? server.token_endpoint,
    exchange: {
      issued_token_type: tokens.issued_token_type,
      token_type: tokens.token_type,
      expires_in: tokens.expires_in,
      scope: tokens.scope,
    },
    access_token: tokens.access_token,
    api: { status: answer.status, body: await answer.json() },
    without_certificate: { status: bare.status, body: await bare.json() },
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error) => {
  const described = { name: error?.name, message: error?.message };
  for (const key of ["code", "error", "error_description", "status"]) {
    if (error?.[key] !== undefined) described[key] = error[key];
  }
  process.stderr.write(`${JSON.stringify(described)}\n`);
  process.exit(1);
});
