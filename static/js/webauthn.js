// WebAuthn ceremonies for the wallet pages: the server embeds the options (JSON, WebAuthn L3
// format) in the form; the browser's authenticator answers; the answer is posted back.
(function () {
  "use strict";
  var form = document.getElementById("webauthn-form");
  var button = document.getElementById("webauthn-start");
  var status = document.getElementById("webauthn-status");
  if (!form || !button) { return; }

  function say(text) { if (status) { status.textContent = text; } }

  async function run() {
    if (!window.PublicKeyCredential || !PublicKeyCredential.parseRequestOptionsFromJSON) {
      say("Ce navigateur ne permet pas d'utiliser une clé de sécurité (WebAuthn).");
      return;
    }
    var options = JSON.parse(form.getAttribute("data-options"));
    var mode = form.getAttribute("data-mode");
    button.disabled = true;
    say("Confirmez avec votre clé (code ou capteur)…");
    try {
      var credential = mode === "create"
        ? await navigator.credentials.create({
            publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
        : await navigator.credentials.get({
            publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      document.getElementById("webauthn-response").value = JSON.stringify(credential.toJSON());
      form.submit();
    } catch (error) {
      button.disabled = false;
      say(error && error.name === "NotAllowedError"
        ? "Opération annulée ou délai dépassé. Réessayez."
        : error && error.name === "InvalidStateError"
          ? "Cette clé est déjà enregistrée."
          : "La clé n'a pas pu répondre : " + (error && error.message ? error.message : error));
    }
  }
  button.addEventListener("click", run);
})();
