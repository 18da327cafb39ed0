// A fetch presenting a client certificate (ORG AUTH_CLI) on https, plain fetch otherwise: what
// openid-client's customFetch needs for tls_client_auth and certificate-bound tokens.

import https from "node:https";

export function mtlsFetch({ cert, key, ca }) {
  const agent = new https.Agent({ cert, key, ca, keepAlive: false });
  return (url, options = {}) => {
    const target = new URL(url);
    if (target.protocol !== "https:") return fetch(url, options);
    return new Promise((resolve, reject) => {
      const headers = new Headers(options.headers);
      const body = options.body == null ? null : String(options.body);
      if (body !== null) headers.set("content-length", String(Buffer.byteLength(body)));
      const request = https.request(
        target,
        {
          method: options.method ?? "GET",
          headers: Object.fromEntries(headers),
          agent,
          signal: options.signal,
        },
        (response) => {
          const chunks = [];
          response.on("data", (chunk) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () => {
            const received = new Headers();
            for (const [name, value] of Object.entries(response.headers)) {
              for (const item of [value].flat()) received.append(name, item);
            }
            const status = response.statusCode;
            const payload = [204, 205, 304].includes(status) ? null : Buffer.concat(chunks);
            resolve(new Response(payload, { status, headers: received }));
          });
        },
      );
      request.on("error", reject);
      if (body !== null) request.write(body);
      request.end();
    });
  };
}
