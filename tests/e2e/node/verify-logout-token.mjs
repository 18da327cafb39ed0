// Verifies a back-channel logout token as a Node relying party would, with the jose package:
// signature against the OP's JWKS, issuer, audience, explicit type (Back-Channel Logout §2.6).
// Reads {token, jwks, issuer, audience} as JSON on stdin; prints the claims.
import { createLocalJWKSet, jwtVerify } from "jose";

const EVENT = "http://schemas.openid.net/event/backchannel-logout";
let input = "";
for await (const chunk of process.stdin) input += chunk;
const { token, jwks, issuer, audience } = JSON.parse(input);

const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
  issuer,
  audience,
  typ: "logout+jwt",
  requiredClaims: ["iat", "exp", "jti", "events"],
});
if (!payload.events || typeof payload.events[EVENT] !== "object") throw new Error("no logout event");
if ("nonce" in payload) throw new Error("a logout token has no nonce");
if (!payload.sub && !payload.sid) throw new Error("neither sub nor sid");
process.stdout.write(JSON.stringify({ ...payload, alg: protectedHeader.alg }));
