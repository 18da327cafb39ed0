// A single-page application using oidc-client-ts's browser build at its defaults (code flow
// with PKCE, scope "openid", tokens in sessionStorage), plus loadUserInfo so that UserInfo is
// read from the browser. The test drives it through window.rp.
"use strict";

const manager = new oidc.UserManager({
  authority: window.RP_CONFIG.authority,
  client_id: window.RP_CONFIG.client_id,
  redirect_uri: `${location.origin}/callback`,
  post_logout_redirect_uri: `${location.origin}/bye`,
  loadUserInfo: true,
});

function summary(user) {
  if (!user) return null;
  return {
    profile: user.profile,
    scope: user.scope,
    access_token: user.access_token,
    refresh_token: user.refresh_token ?? null,
    has_id_token: Boolean(user.id_token),
  };
}

function show(text) {
  document.getElementById("state").textContent = text;
}

window.rp = {
  login: () => manager.signinRedirect(),
  refresh: async () => summary(await manager.signinSilent()),
  user: async () => summary(await manager.getUser()),
  logout: () => manager.signoutRedirect(),
};

window.rpReady = (async () => {
  try {
    if (location.pathname === "/callback") {
      await manager.signinRedirectCallback();
      history.replaceState(null, "", "/");
    }
    const user = await manager.getUser();
    show(user ? `Connecté : ${user.profile.sub}` : "Non connecté");
    return { user: summary(user) };
  } catch (error) {
    show(`Erreur : ${error.message}`);
    return { error: String(error?.message ?? error) };
  }
})();
