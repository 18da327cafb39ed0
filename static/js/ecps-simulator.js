// e-CPS simulator: the professional's phone app, in a browser tab.
//
// It is an ordinary device of the device API (docs/ecps.md, "The device protocol"):
// each e-CPS has its own ECDSA P-256 key, generated here as a non-extractable WebCrypto key
// and kept in IndexedDB: the private key never leaves the browser, and even this script can
// only sign with it, not read it.
// Every call is signed with a fresh ES256 JWS; WebCrypto's ECDSA signature is already the
// raw r||s form that JWS expects.
(function () {
  "use strict";

  const root = document.getElementById("ecps");
  if (!root) {
    return;
  }

  // Calls go to this origin; tokens name the public URL, which the server compares with
  // PSC_BASE_URL (the page may have been opened as 127.0.0.1 or through a LAN address).
  const API_PATH = root.dataset.apiPath || "/ecps/api/v1";
  const PUBLIC_API = (root.dataset.publicBase || window.location.origin) + API_PATH;
  const OUTBOX_URL = root.dataset.outboxUrl || "";

  // With nothing on screen, a long poll: the server answers as soon as a request arrives.
  // It only waits for "something pending", not for "something changed": while requests are
  // shown, it would answer at once (the tab would spin) and would not tell that the last one
  // was cancelled or answered elsewhere before 25 s. So, while requests are shown, a short
  // poll every 2 s.
  const LONG_POLL_SECONDS = 25;
  const PENDING_REPOLL_MS = 2000;
  const FIRST_BACKOFF_MS = 1000;
  const MAX_BACKOFF_MS = 30000;
  const CLOSED_CARD_MS = 8000;
  const CALL_TOKEN_LIFETIME = 60; // the server accepts at most 120 s
  const DEFAULT_PLATFORM = "web";

  const BASE_TITLE = document.title;
  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------------------------------
  // Time: the server refuses tokens dated too far from its clock, and a phone's clock can be
  // off. The HTTP Date header gives the server's time to the second; only a clear skew is
  // corrected, so that the usual second of rounding and latency changes nothing.
  // ---------------------------------------------------------------------------------------
  let clockOffset = 0;

  function nowSeconds() {
    return Math.floor(Date.now() / 1000) + clockOffset;
  }

  function learnServerClock(response) {
    const date = Date.parse(response.headers.get("Date") || "");
    if (Number.isNaN(date)) {
      return;
    }
    const skew = Math.round((date - Date.now()) / 1000);
    clockOffset = Math.abs(skew) > 30 ? skew : 0;
  }

  // ---------------------------------------------------------------------------------------
  // JWS (compact, ES256)
  // ---------------------------------------------------------------------------------------
  const utf8 = new TextEncoder();

  function base64url(bytes) {
    let binary = "";
    for (const byte of bytes) {
      binary += String.fromCharCode(byte);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function encodePart(value) {
    return base64url(utf8.encode(JSON.stringify(value)));
  }

  function newJti() {
    if (crypto.randomUUID) {
      return crypto.randomUUID();
    }
    return base64url(crypto.getRandomValues(new Uint8Array(16)));
  }

  async function signJws(privateKey, header, claims) {
    const payload = { iat: nowSeconds(), jti: newJti(), ...claims };
    const signingInput = encodePart({ alg: "ES256", ...header }) + "." + encodePart(payload);
    const signature = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      privateKey,
      utf8.encode(signingInput)
    );
    return signingInput + "." + base64url(new Uint8Array(signature));
  }

  async function newKeyPair() {
    // extractable: false applies to the private key; a public key is always exportable.
    const pair = await crypto.subtle.generateKey(
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["sign", "verify"]
    );
    const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
    const publicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }; // no ext, key_ops
    return { privateKey: pair.privateKey, publicJwk: publicJwk };
  }

  function callToken(device, method, url) {
    const iat = nowSeconds();
    return signJws(
      device.privateKey,
      { typ: "ecps-device+jwt", kid: device.deviceId },
      { iss: device.deviceId, htm: method, htu: url, iat: iat, exp: iat + CALL_TOKEN_LIFETIME }
    );
  }

  function decisionToken(device, request, decision, pin) {
    const claims = {
      request_id: request.id,
      decision: decision,
      binding_message: request.binding_message || "",
    };
    if (pin) {
      claims.pin = pin;
    }
    return signJws(device.privateKey, { typ: "ecps-decision+jwt", kid: device.deviceId }, claims);
  }

  // ---------------------------------------------------------------------------------------
  // IndexedDB: one record per e-CPS, the CryptoKey object stored as is (structured clone).
  // ---------------------------------------------------------------------------------------
  const DB_NAME = "psc-idp-ecps-simulator";
  const STORE = "devices";
  let dbPromise = null;

  function requestResult(request) {
    return new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  function openDb() {
    if (!dbPromise) {
      const opening = indexedDB.open(DB_NAME, 1);
      opening.onupgradeneeded = () => {
        opening.result.createObjectStore(STORE, { keyPath: "deviceId" });
      };
      dbPromise = requestResult(opening);
    }
    return dbPromise;
  }

  async function inStore(mode, work) {
    const db = await openDb();
    const transaction = db.transaction(STORE, mode);
    const done = new Promise((resolve, reject) => {
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
    const result = await requestResult(work(transaction.objectStore(STORE)));
    await done;
    return result;
  }

  const devices = {
    async all() {
      const list = await inStore("readonly", (store) => store.getAll());
      return list.sort((a, b) => a.createdAt - b.createdAt);
    },
    get: (deviceId) => inStore("readonly", (store) => store.get(deviceId)),
    put: (device) => inStore("readwrite", (store) => store.put(device)),
    remove: (deviceId) => inStore("readwrite", (store) => store.delete(deviceId)),
  };

  // ---------------------------------------------------------------------------------------
  // Device API client
  // ---------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, body) {
      super(body.error_description || body.error || "HTTP " + status);
      this.status = status;
      this.code = body.error || "";
      this.attemptsLeft = body.attempts_left;
    }
  }

  class NetworkError extends Error {}

  function isAbort(error) {
    return error && error.name === "AbortError";
  }

  // ``path`` is relative to the API and may carry a query; ``htu`` never includes it.
  async function api(method, path, options = {}, isRetry = false) {
    const offsetUsed = clockOffset;
    const headers = { Accept: "application/json" };
    if (options.device) {
      const url = PUBLIC_API + path.split("?")[0];
      headers.Authorization = "ECPS-Device " + (await callToken(options.device, method, url));
    }
    const init = { method: method, headers: headers, signal: options.signal, cache: "no-store" };
    // The device API authenticates by signature only: no cookie of the browser goes along.
    init.credentials = "omit";
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    let response;
    try {
      response = await fetch(API_PATH + path, init);
    } catch (error) {
      throw isAbort(error) ? error : new NetworkError(String(error));
    }
    learnServerClock(response);
    // A token dated by a wrong clock: now that the server's time is known, sign again, once.
    if (response.status === 401 && options.device && !isRetry && clockOffset !== offsetUsed) {
      return api(method, path, options, true);
    }
    if (response.status === 204) {
      return null;
    }
    let body = {};
    try {
      body = await response.json();
    } catch (error) {
      if (isAbort(error)) {
        throw error;
      }
    }
    if (!response.ok) {
      throw new ApiError(response.status, body || {});
    }
    return body;
  }

  function plural(count, word) {
    return count + " " + word + (count > 1 ? "s" : "");
  }

  // What the professional reads when something goes wrong.
  function explain(error) {
    if (error instanceof NetworkError) {
      return (
        "Impossible de joindre le serveur Pro Santé Connect. " +
        "Vérifiez la connexion, puis réessayez."
      );
    }
    if (!(error instanceof ApiError)) {
      return "Erreur inattendue : " + error.message;
    }
    switch (error.code) {
      case "invalid_pin":
        return (
          "Code PIN erroné. Il vous reste " +
          plural(error.attemptsLeft, "essai") +
          " avant le verrouillage de l'e-CPS."
        );
      case "device_locked":
        return (
          "Cette e-CPS est verrouillée après trop de codes PIN erronés. " +
          "Activez une nouvelle e-CPS pour vous connecter."
        );
      case "request_closed":
      case "unknown_request":
        return (
          "Cette demande n'est plus en attente : elle a expiré, a été annulée " +
          "ou a déjà été traitée."
        );
      case "replayed_decision":
        return "Cette réponse a déjà été reçue par le serveur.";
      case "device_revoked":
      case "unknown_device":
      case "invalid_device_token":
      case "invalid_signature":
        return (
          "Le serveur ne reconnaît plus cette e-CPS (révoquée, ou serveur réinitialisé). " +
          "Supprimez-la et activez-en une nouvelle."
        );
      case "invalid_code":
        return (
          "Code de courriel ou de SMS erroné." +
          (error.attemptsLeft !== undefined
            ? " Il reste " + plural(error.attemptsLeft, "essai") + "."
            : "")
        );
      case "too_many_attempts":
        return "Trop de codes erronés : recommencez l'activation.";
      case "invalid_activation":
        return "Cette activation a expiré ou a déjà servi : recommencez.";
      default:
        if (error.status >= 500) {
          return "Le serveur a rencontré une erreur (" + error.status + "). Réessayez.";
        }
        return error.message;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Messages: each screen has an alert region (errors) and a status region (the rest). Both
  // stay in the page so that screen readers announce what is written into them.
  // ---------------------------------------------------------------------------------------
  function notify(screen, kind, text) {
    const alert = $(screen + "-alert");
    const status = $(screen + "-status");
    alert.replaceChildren();
    status.replaceChildren();
    if (!text) {
      return;
    }
    const notice = document.createElement("p");
    notice.className = "notice notice--" + (kind === "error" ? "error" : "info");
    notice.textContent = text;
    (kind === "error" ? alert : status).append(notice);
  }

  function announce(text) {
    $("device-announce").textContent = text;
  }

  function clearNotices(screen) {
    notify(screen, "info", "");
  }

  // A message for the home screen, shown after the navigation that follows (deletion…).
  let flash = null;

  // Flags a field for assistive technologies; returns ``invalid`` to read as a condition.
  function markInvalid(input, invalid) {
    input.setAttribute("aria-invalid", invalid ? "true" : "false");
    return invalid;
  }

  // ---------------------------------------------------------------------------------------
  // Screens and navigation: #, #activer[/NATIONAL_ID], #e-cps/DEVICE_ID
  // ---------------------------------------------------------------------------------------
  const SCREENS = ["home", "activate", "device"];

  function showScreen(name, title, moveFocus) {
    for (const screen of SCREENS) {
      $("screen-" + screen).hidden = screen !== name;
    }
    document.title = title + " — " + BASE_TITLE;
    // After a navigation, start reading (and tabbing) from the new screen's heading.
    if (moveFocus) {
      $(name + "-title").focus();
    }
  }

  function currentRoute() {
    const raw = window.location.hash.replace(/^#\/?/, "");
    try {
      return decodeURIComponent(raw);
    } catch (error) {
      return raw; // a malformed address: no screen matches, home it is
    }
  }

  function route(moveFocus) {
    leaveDevice();
    const hash = currentRoute();
    if (hash.startsWith("activation=")) {
      showActivate("", moveFocus);
      useCardCode(hash.slice("activation=".length));
    } else if (hash === "activer" || hash.startsWith("activer/")) {
      showActivate(hash.slice("activer/".length), moveFocus);
    } else if (hash.startsWith("e-cps/")) {
      showDevice(hash.slice("e-cps/".length), moveFocus);
    } else {
      showHome(moveFocus);
    }
  }

  function go(hash) {
    if (window.location.hash === hash) {
      route(true);
    } else {
      window.location.hash = hash;
    }
  }

  // ---------------------------------------------------------------------------------------
  // 1. Home: the e-CPS of this browser, with their state on the server
  // ---------------------------------------------------------------------------------------
  const STATE_LABELS = {
    checking: "Vérification…",
    active: "Active",
    locked: "Verrouillée",
    revoked: "Révoquée ou inconnue du serveur",
    offline: "Serveur injoignable",
  };

  let homeRendering = 0;

  async function showHome(moveFocus) {
    showScreen("home", "Mes e-CPS", moveFocus);
    if (flash) {
      notify("home", flash.kind, flash.text);
      flash = null;
    } else {
      clearNotices("home");
    }
    const rendering = ++homeRendering;
    let list;
    try {
      list = await devices.all();
    } catch (error) {
      notify("home", "error", "Le stockage du navigateur (IndexedDB) est indisponible : " + error);
      return;
    }
    if (rendering !== homeRendering) {
      return; // another navigation happened meanwhile
    }
    const container = $("device-list");
    container.replaceChildren();
    $("home-empty").hidden = list.length > 0;
    for (const device of list) {
      const item = $("tpl-device").content.firstElementChild.cloneNode(true);
      item.querySelector("a").href = "#e-cps/" + encodeURIComponent(device.deviceId);
      item.querySelector('[data-field="name"]').textContent = device.name;
      item.querySelector('[data-field="national-id"]').textContent = device.nationalId;
      container.append(item);
      refreshState(device).then((state) => {
        setStateTag(item.querySelector('[data-field="state"]'), state);
        item.querySelector('[data-field="name"]').textContent = device.name;
      });
    }
  }

  function setStateTag(tag, state) {
    tag.textContent = STATE_LABELS[state] || state;
    tag.className = "tag ecps-tag ecps-tag--" + state;
  }

  // Why the server last turned a device away (device id → its error_description): a 401
  // covers a revoked or unknown device as well as a refused token.
  const refusals = new Map();

  // The device's state on the server; keeps the local name in step with the server's (the
  // professional may rename it in their account space).
  async function refreshState(device) {
    refusals.delete(device.deviceId);
    let info;
    try {
      info = await api("GET", "/device", { device: device });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        refusals.set(device.deviceId, error.message);
        return "revoked"; // the server does not tell a revoked device from an unknown one
      }
      return "offline";
    }
    if (info.name && info.name !== device.name) {
      device.name = info.name;
      devices.put(device).catch(() => {}); // only the name: shown anyway from the server's
    }
    return info.status;
  }

  // ---------------------------------------------------------------------------------------
  // 2. Activation: national id → codes from e-mail and SMS → PIN and name → done
  // ---------------------------------------------------------------------------------------
  // cardCode: activation with the code of the card-authenticated page (no e-mail/SMS codes).
  const activation = { id: "", nationalId: "", emailCode: "", smsCode: "", cardCode: "" };
  const ACTIVATION_STEPS = ["form-identify", "form-codes", "form-pin", "activate-done"];

  function showActivate(nationalId, moveFocus) {
    showScreen("activate", "Activer une e-CPS", moveFocus);
    clearNotices("activate");
    Object.assign(activation, {
      id: "", nationalId: "", emailCode: "", smsCode: "", cardCode: "",
    });
    for (const form of ["form-identify", "form-codes", "form-pin"]) {
      $(form).reset();
      for (const input of $(form).querySelectorAll("input")) {
        input.removeAttribute("aria-invalid");
      }
    }
    if (nationalId) {
      $("activate-national-id").value = nationalId;
    }
    activationStep(0, false);
  }

  function activationStep(index, moveFocus) {
    ACTIVATION_STEPS.forEach((id, position) => {
      $(id).hidden = position !== index;
    });
    $("activate-step").hidden = index > 2;
    $("activate-step").textContent = "Étape " + (index + 1) + " sur 3";
    if (moveFocus) {
      const target = $(ACTIVATION_STEPS[index]).querySelector("input, a");
      if (target) {
        target.focus();
      }
    }
  }

  function setBusy(form, busy) {
    for (const button of form.querySelectorAll("button")) {
      button.disabled = busy;
    }
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  $("form-identify").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const input = $("activate-national-id");
    const nationalId = input.value.trim();
    if (markInvalid(input, !nationalId)) {
      notify("activate", "error", "Saisissez l'identifiant national du professionnel.");
      input.focus();
      return;
    }
    setBusy(form, true);
    try {
      const started = await api("POST", "/activations", { body: { national_id: nationalId } });
      Object.assign(activation, { id: started.activation_id, nationalId: nationalId });
      clearNotices("activate");
      $("codes-sent").textContent = started.message;
      $("codes-outbox").hidden = !OUTBOX_URL;
      $("codes-outbox-link").href = OUTBOX_URL + "?national_id=" + encodeURIComponent(nationalId);
      activationStep(1, true);
    } catch (error) {
      markInvalid(input, error instanceof ApiError);
      notify("activate", "error", explain(error));
    } finally {
      setBusy(form, false);
    }
  });

  // The card path: the code replaces the national id and the e-mail/SMS codes.
  function useCardCode(raw) {
    const code = raw.trim().toUpperCase();
    const input = $("activate-card-code");
    input.value = code;
    if (markInvalid(input, !/^[A-Z0-9]{4}(-[A-Z0-9]{4}){4}$/.test(code))) {
      notify("activate", "error", "Le code d'activation a la forme XXXX-XXXX-XXXX-XXXX-XXXX.");
      input.focus();
      return;
    }
    activation.cardCode = code;
    clearNotices("activate");
    activationStep(2, true);
  }

  $("use-card-code").addEventListener("click", () => useCardCode($("activate-card-code").value));

  $("form-codes").addEventListener("submit", (event) => {
    event.preventDefault();
    const email = $("activate-email-code");
    const sms = $("activate-sms-code");
    const badEmail = markInvalid(email, !/^\d{6}$/.test(email.value.trim()));
    const badSms = markInvalid(sms, !/^\d{6}$/.test(sms.value.trim()));
    if (badEmail || badSms) {
      notify("activate", "error", "Chaque code comporte 6 chiffres.");
      (badEmail ? email : sms).focus();
      return;
    }
    activation.emailCode = email.value.trim();
    activation.smsCode = sms.value.trim();
    clearNotices("activate");
    activationStep(2, true);
  });

  $("form-pin").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const pin = $("activate-pin");
    const again = $("activate-pin-again");
    const name = $("activate-name");
    let problem = "";
    if (markInvalid(pin, !/^\d{4}$/.test(pin.value))) {
      problem = "Le code PIN doit comporter exactement 4 chiffres.";
    } else if (markInvalid(again, pin.value !== again.value)) {
      problem = "Les deux codes PIN saisis sont différents.";
    } else if (markInvalid(name, !name.value.trim())) {
      problem = "Donnez un nom à cette e-CPS.";
    }
    if (problem) {
      notify("activate", "error", problem);
      form.querySelector('[aria-invalid="true"]').focus();
      return;
    }
    setBusy(form, true);
    try {
      const device = await completeActivation(pin.value, name.value.trim());
      clearNotices("activate");
      $("activate-done-text").textContent =
        "«\u00a0" + device.name + "\u00a0» est prête pour " + device.nationalId +
        ". Gardez cette page ouverte pour recevoir les demandes de connexion.";
      $("activate-done-link").href = "#e-cps/" + encodeURIComponent(device.deviceId);
      activationStep(3, true);
    } catch (error) {
      activationFailed(error);
    } finally {
      setBusy(form, false);
    }
  });

  // A new key for each attempt: it is only kept once the server has registered it.
  async function completeActivation(pin, name) {
    const keys = await newKeyPair();
    const deviceInfo = { name: name, platform: DEFAULT_PLATFORM };
    let done;
    if (activation.cardCode) {
      const proof = await signJws(keys.privateKey, { typ: "ecps-card-activation+jwt" }, {
        activation_code: activation.cardCode,
      });
      done = await api("POST", "/activations/card", {
        body: {
          activation_code: activation.cardCode,
          pin: pin,
          public_key: keys.publicJwk,
          proof: proof,
          device: deviceInfo,
        },
      });
    } else {
      const proof = await signJws(keys.privateKey, { typ: "ecps-activation+jwt" }, {
        activation_id: activation.id,
      });
      const path = "/activations/" + encodeURIComponent(activation.id) + "/complete";
      done = await api("POST", path, {
        body: {
          email_code: activation.emailCode,
          sms_code: activation.smsCode,
          pin: pin,
          public_key: keys.publicJwk,
          proof: proof,
          device: deviceInfo,
        },
      });
    }
    const device = {
      deviceId: done.device_id,
      nationalId: done.national_id,
      name: name,
      createdAt: Date.now(),
      privateKey: keys.privateKey,
      publicJwk: keys.publicJwk,
    };
    await devices.put(device);
    return device;
  }

  // Back to the step the professional can fix.
  function activationFailed(error) {
    notify("activate", "error", explain(error));
    if (!(error instanceof ApiError)) {
      return; // network: stay here and let them try again
    }
    if (error.code === "invalid_code") {
      $("form-codes").reset();
      markInvalid($("activate-email-code"), true);
      markInvalid($("activate-sms-code"), true);
      activationStep(1, true);
    } else if (error.code === "invalid_activation" || error.code === "too_many_attempts") {
      activationStep(0, true);
    }
  }

  // ---------------------------------------------------------------------------------------
  // 3. One e-CPS: pending requests, followed by long polling while the tab is visible
  // ---------------------------------------------------------------------------------------
  const KIND_TITLES = {
    login: (name) => "Connexion à " + (name || "un service"),
    ciba: () => "Demande de connexion depuis un logiciel",
    enrolment: () => "Activation d'une clé de sécurité",
  };

  let session = null; // the e-CPS on screen

  function newSession(device) {
    return {
      device: device,
      state: "checking",
      controller: null, // aborts the running poll loop
      cards: new Map(), // request id → {request, element, deadline, busy}
      closed: new Set(), // ids answered here: a poll sent before the answer may still list them
      offline: false,
      ticker: null,
    };
  }

  async function showDevice(deviceId, moveFocus) {
    let device;
    try {
      device = await devices.get(deviceId);
    } catch (error) {
      device = null;
    }
    if (!device) {
      flash = { kind: "error", text: "Cette e-CPS n'existe pas (ou plus) dans ce navigateur." };
      go("#");
      return;
    }
    showScreen("device", device.name, moveFocus);
    clearNotices("device");
    $("device-title").textContent = device.name;
    $("device-national-id").textContent = device.nationalId;
    $("request-list").replaceChildren();
    $("requests-empty").hidden = false;
    closeDeleteConfirm(false);
    const current = (session = newSession(device));
    setDeviceState(current, "checking");
    current.ticker = window.setInterval(() => tick(current), 1000);
    const state = await refreshState(device);
    if (session !== current) {
      return; // left meanwhile
    }
    $("device-title").textContent = device.name;
    setDeviceState(current, state);
    startPolling(current);
  }

  function leaveDevice() {
    if (!session) {
      return;
    }
    stopPolling(session);
    window.clearInterval(session.ticker);
    session = null;
  }

  function setDeviceState(current, state) {
    current.state = state;
    setStateTag($("device-state"), state);
    if (state === "locked") {
      stopPolling(current);
      dropAllCards(current);
      const link = document.createElement("a");
      link.href = "#activer/" + encodeURIComponent(current.device.nationalId);
      link.textContent = "Activer une nouvelle e-CPS";
      showDeviceProblem(explain(new ApiError(423, { error: "device_locked" })), link);
    } else if (state === "revoked") {
      stopPolling(current);
      dropAllCards(current);
      const detail = refusals.get(current.device.deviceId);
      showDeviceProblem(
        explain(new ApiError(401, { error: "invalid_device_token" })) +
          (detail ? " Réponse du serveur : «\u00a0" + detail + "\u00a0»" : "")
      );
    }
    setPollState(current);
  }

  function showDeviceProblem(text, link) {
    notify("device", "error", text);
    if (link) {
      const notice = $("device-alert").firstElementChild;
      notice.append(" ", link);
    }
  }

  function setPollState(current, retryMs) {
    const line = $("poll-state");
    line.classList.remove("ecps-poll--listening", "ecps-poll--offline");
    if (current.state === "offline" || retryMs) {
      line.classList.add("ecps-poll--offline");
      line.textContent = retryMs
        ? "Serveur injoignable : nouvel essai dans " + Math.round(retryMs / 1000) + " s."
        : "Serveur injoignable.";
    } else if (current.state !== "active") {
      line.textContent = current.state === "checking" ? "Vérification de l'e-CPS…" : "";
    } else if (document.hidden) {
      line.textContent = "En pause tant que l'onglet est masqué.";
    } else {
      line.classList.add("ecps-poll--listening");
      line.textContent = "À l'écoute des demandes de connexion.";
    }
  }

  function startPolling(current) {
    // "offline" at the first check: keep trying, the server may come back.
    const usable = current.state === "active" || current.state === "offline";
    if (!usable || current.controller || document.hidden || session !== current) {
      return;
    }
    const controller = new AbortController();
    current.controller = controller;
    pollLoop(current, controller.signal).finally(() => {
      if (current.controller === controller) {
        current.controller = null;
      }
    });
  }

  function stopPolling(current) {
    if (current.controller) {
      current.controller.abort();
      current.controller = null;
    }
  }

  // Resolves after ``ms``, or at once when the loop is stopped.
  function sleep(ms, signal) {
    return new Promise((resolve) => {
      const wake = () => {
        window.clearTimeout(timer);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      const timer = window.setTimeout(wake, ms);
      signal.addEventListener("abort", wake);
    });
  }

  async function pollLoop(current, signal) {
    let backoff = 0;
    while (!signal.aborted) {
      try {
        const wait = current.cards.size ? 0 : LONG_POLL_SECONDS;
        const answer = await api("GET", "/requests?wait=" + wait, {
          device: current.device,
          signal: signal,
        });
        if (signal.aborted) {
          return;
        }
        backoff = 0;
        backOnline(current);
        showRequests(current, answer.requests || []);
        if (current.cards.size) {
          await sleep(PENDING_REPOLL_MS, signal);
        }
      } catch (error) {
        if (isAbort(error) || signal.aborted) {
          return;
        }
        if (error instanceof ApiError && error.code === "device_locked") {
          setDeviceState(current, "locked");
          return;
        }
        if (error instanceof ApiError && error.status === 401) {
          refusals.set(current.device.deviceId, error.message);
          setDeviceState(current, "revoked");
          return;
        }
        // Network or server trouble: wait longer each time, up to 30 s.
        backoff = Math.min(backoff ? backoff * 2 : FIRST_BACKOFF_MS, MAX_BACKOFF_MS);
        wentOffline(current, error, backoff);
        await sleep(backoff, signal);
      }
    }
  }

  function wentOffline(current, error, retryMs) {
    if (!current.offline) {
      current.offline = true;
      notify("device", "error", explain(error) + " Nouvel essai automatique.");
    }
    setPollState(current, retryMs);
  }

  function backOnline(current) {
    if (current.state === "offline") {
      setDeviceState(current, "active");
    }
    if (current.offline) {
      current.offline = false;
      notify("device", "info", "Connexion au serveur rétablie.");
    }
    setPollState(current);
  }

  document.addEventListener("visibilitychange", () => {
    if (!session) {
      return;
    }
    // A hidden tab does not listen: the professional could not see the request anyway.
    if (document.hidden) {
      stopPolling(session);
    } else {
      startPolling(session);
    }
    setPollState(session);
  });

  // The server's list is the truth: new requests get a card, vanished ones (expired,
  // cancelled, answered on another device) lose theirs, unless an answer is on its way.
  function showRequests(current, requests) {
    const listed = new Set();
    for (const request of requests) {
      if (current.closed.has(request.id)) {
        continue;
      }
      listed.add(request.id);
      const known = current.cards.get(request.id);
      const deadline = Date.now() + Math.max(0, request.expires_in) * 1000;
      if (known) {
        known.deadline = deadline;
      } else {
        addCard(current, request, deadline);
      }
    }
    for (const [id, card] of current.cards) {
      if (listed.has(id) || card.busy) {
        continue;
      }
      if (!card.closedAt) {
        // Gone from the server's list without an answer from here: cancelled by the
        // service, expired, or answered on another device. Say so before it goes.
        markAbandoned(card);
        continue;
      }
      // A closed card keeps its explanation on screen a little while before it goes.
      if (Date.now() - card.closedAt >= CLOSED_CARD_MS) {
        removeCard(current, id, card.element.contains(document.activeElement));
      }
    }
    tick(current);
  }

  function markAbandoned(card) {
    card.expired = true; // the countdown stops
    card.element.classList.add("ecps-request--abandoned");
    card.element.querySelector('[data-field="timer"]').textContent = "Demande abandonnée";
    closeCard(
      card,
      "Cette demande n'attend plus de réponse : annulée par le service, expirée ou traitée " +
        "sur un autre appareil."
    );
    announce("Demande abandonnée : " + requestTitle(card.request) + ".");
  }

  // Newest first: a request that just arrived is the one the professional is looking for.
  function insertByAge(element, createdAt) {
    const list = $("request-list");
    for (const other of list.children) {
      if ((other.dataset.createdAt || "") < createdAt) {
        list.insertBefore(element, other);
        return;
      }
    }
    list.append(element);
  }

  function requestTitle(request) {
    const title = KIND_TITLES[request.kind];
    if (title) {
      return title(request.client_name);
    }
    return "Demande de " + (request.client_name || "connexion");
  }

  function addCard(current, request, deadline) {
    const element = $("tpl-request").content.firstElementChild.cloneNode(true);
    const field = (name) => element.querySelector('[data-field="' + name + '"]');
    const card = { request: request, element: element, deadline: deadline, busy: false };
    const key = request.id.replace(/[^A-Za-z0-9_-]/g, "");

    element.dataset.requestId = request.id;
    element.dataset.createdAt = request.created_at || "";
    field("title").textContent = requestTitle(request);
    if (request.kind !== "login" && request.client_name) {
      field("service").hidden = false;
      field("service").textContent = "Service : " + request.client_name;
    }
    field("binding").textContent = request.binding_message || "—";
    field("binding-label").id = "binding-" + key;
    field("binding").setAttribute("aria-describedby", "binding-" + key);
    field("pin").id = "pin-" + key;
    field("pin-label").htmlFor = "pin-" + key;
    field("feedback").id = "feedback-" + key;
    field("pin").setAttribute("aria-describedby", "feedback-" + key);

    const onClick = (action, handler) => {
      element.querySelector('[data-action="' + action + '"]').addEventListener("click", handler);
    };
    onClick("approve", () => askPin(card));
    onClick("deny", () => answer(current, card, "deny", ""));
    onClick("cancel", () => closePin(card, true));
    field("pin-form").addEventListener("submit", (event) => {
      event.preventDefault();
      submitPin(current, card);
    });

    current.cards.set(request.id, card);
    insertByAge(element, element.dataset.createdAt);
    $("requests-empty").hidden = true;
    // The card shows it all; screen readers hear it (the list itself is not a live region,
    // so that countdowns and removals stay quiet).
    announce("Nouvelle demande : " + requestTitle(request) + ". Code de liaison " +
      field("binding").textContent + ".");
  }

  // ``moveFocus``: the card held the focus; keep the keyboard user's place in the list
  // instead of letting the focus fall back to the top of the page.
  function removeCard(current, id, moveFocus) {
    const card = current.cards.get(id);
    if (!card) {
      return;
    }
    card.element.remove();
    current.cards.delete(id);
    $("requests-empty").hidden = current.cards.size > 0;
    if (moveFocus) {
      $("requests-title").setAttribute("tabindex", "-1");
      $("requests-title").focus();
    }
  }

  function dropAllCards(current) {
    for (const id of Array.from(current.cards.keys())) {
      removeCard(current, id, false);
    }
  }

  function formatRemaining(seconds) {
    if (seconds >= 60) {
      const rest = seconds % 60;
      return Math.floor(seconds / 60) + " min " + (rest < 10 ? "0" : "") + rest + " s";
    }
    return seconds + " s";
  }

  // Once a second: countdowns, and cards whose time is up stop offering to answer.
  function tick(current) {
    for (const card of current.cards.values()) {
      if (card.closedAt) {
        continue; // its explanation stays as written
      }
      const left = Math.max(0, Math.round((card.deadline - Date.now()) / 1000));
      const timer = card.element.querySelector('[data-field="timer"]');
      timer.classList.toggle("ecps-request__timer--short", left <= 20);
      if (left > 0) {
        timer.textContent = "Expire dans " + formatRemaining(left);
      } else if (!card.expired) {
        card.expired = true;
        timer.textContent = "Demande expirée";
        card.element.classList.add("ecps-request--abandoned");
        closeCard(card, "Le délai est dépassé : relancez la connexion depuis le service.");
      }
    }
  }

  // A card that can no longer be answered: no buttons, an explanation.
  function closeCard(card, message) {
    card.closedAt = Date.now();
    card.element.classList.add("ecps-request--closed");
    card.element.querySelector('[data-field="actions"]').hidden = true;
    card.element.querySelector('[data-field="pin-form"]').hidden = true;
    setFeedback(card, "info", message);
  }

  function setFeedback(card, kind, text) {
    const feedback = card.element.querySelector('[data-field="feedback"]');
    feedback.className = "ecps-request__feedback";
    if (text) {
      feedback.classList.add("ecps-request__feedback--" + kind);
    }
    feedback.textContent = text;
  }

  function askPin(card) {
    card.element.querySelector('[data-field="actions"]').hidden = true;
    card.element.querySelector('[data-field="pin-form"]').hidden = false;
    setFeedback(card, "info", "");
    card.element.querySelector('[data-field="pin"]').focus();
  }

  function closePin(card, moveFocus) {
    const pin = card.element.querySelector('[data-field="pin"]');
    pin.value = "";
    pin.removeAttribute("aria-invalid");
    card.element.querySelector('[data-field="pin-form"]').hidden = true;
    card.element.querySelector('[data-field="actions"]').hidden = false;
    setFeedback(card, "info", "");
    if (moveFocus) {
      card.element.querySelector('[data-action="approve"]').focus();
    }
  }

  function submitPin(current, card) {
    const pin = card.element.querySelector('[data-field="pin"]');
    if (!/^\d{4}$/.test(pin.value)) {
      markInvalid(pin, true);
      setFeedback(card, "error", "Le code PIN comporte 4 chiffres.");
      pin.focus();
      return;
    }
    answer(current, card, "approve", pin.value);
  }

  function setCardBusy(card, busy) {
    card.busy = busy;
    card.element.setAttribute("aria-busy", busy ? "true" : "false");
    for (const control of card.element.querySelectorAll("button, input")) {
      control.disabled = busy;
    }
  }

  async function answer(current, card, decision, pin) {
    const request = card.request;
    // Read before the buttons are disabled: a disabled button loses the focus.
    const hadFocus = card.element.contains(document.activeElement);
    setCardBusy(card, true);
    const sending = decision === "approve" ? "Vérification du code PIN…" : "Envoi du refus…";
    setFeedback(card, "info", sending);
    try {
      const token = await decisionToken(current.device, request, decision, pin);
      const path = "/requests/" + encodeURIComponent(request.id) + "/decision";
      await api("POST", path, { device: current.device, body: { decision: token } });
      current.closed.add(request.id);
      setCardBusy(card, false);
      removeCard(current, request.id, hadFocus);
      notify(
        "device",
        "info",
        decision === "approve"
          ? "Demande approuvée : " + requestTitle(request) + "."
          : "Demande refusée : " + requestTitle(request) + "."
      );
    } catch (error) {
      setCardBusy(card, false);
      answerFailed(current, card, error, hadFocus);
    }
  }

  function answerFailed(current, card, error, hadFocus) {
    const pin = card.element.querySelector('[data-field="pin"]');
    pin.value = "";
    if (!(error instanceof ApiError)) {
      // Network: the same card can be answered again, from where the professional was.
      setFeedback(card, "error", explain(error));
      if (hadFocus) {
        const pinShown = !card.element.querySelector('[data-field="pin-form"]').hidden;
        (pinShown ? pin : card.element.querySelector('[data-action="approve"]')).focus();
      }
      return;
    }
    if (error.code === "invalid_pin") {
      markInvalid(pin, true);
      setFeedback(card, "error", explain(error));
      pin.focus();
    } else if (error.code === "device_locked") {
      setDeviceState(current, "locked");
      $("device-title").focus();
    } else if (error.status === 401) {
      refusals.set(current.device.deviceId, error.message);
      setDeviceState(current, "revoked");
      $("device-title").focus();
    } else if (["request_closed", "unknown_request", "replayed_decision"].includes(error.code)) {
      current.closed.add(card.request.id);
      closeCard(card, explain(error));
      if (hadFocus) {
        const title = card.element.querySelector('[data-field="title"]');
        title.setAttribute("tabindex", "-1");
        title.focus();
      }
    } else {
      setFeedback(card, "error", explain(error));
    }
  }

  // ---------------------------------------------------------------------------------------
  // 4. Deleting an e-CPS: revoked on the server, then its key is erased here
  // ---------------------------------------------------------------------------------------
  function closeDeleteConfirm(moveFocus) {
    $("delete-confirm").hidden = true;
    $("delete-start").setAttribute("aria-expanded", "false");
    if (moveFocus) {
      $("delete-start").focus();
    }
  }

  $("delete-start").addEventListener("click", () => {
    $("delete-confirm").hidden = false;
    $("delete-start").setAttribute("aria-expanded", "true");
    $("delete-confirm-text").focus();
  });

  $("delete-no").addEventListener("click", () => closeDeleteConfirm(true));

  $("delete-yes").addEventListener("click", async () => {
    const current = session;
    if (!current) {
      return;
    }
    const button = $("delete-yes");
    button.disabled = true;
    stopPolling(current);
    try {
      await api("DELETE", "/device", { device: current.device });
    } catch (error) {
      // Already revoked or unknown to the server (401): nothing left to revoke there.
      if (!(error instanceof ApiError && error.status === 401)) {
        button.disabled = false;
        notify("device", "error", "La suppression a échoué. " + explain(error));
        startPolling(current);
        return;
      }
    }
    button.disabled = false;
    await devices.remove(current.device.deviceId);
    const removed = "L'e-CPS «\u00a0" + current.device.name + "\u00a0» a été supprimée.";
    flash = { kind: "info", text: removed };
    go("#");
  });

  // ---------------------------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------------------------
  function unsupportedReason() {
    if (!window.indexedDB) {
      return "Ce navigateur n'offre pas de stockage IndexedDB (navigation privée ?).";
    }
    if (!window.isSecureContext || !window.crypto || !crypto.subtle) {
      return "";  // the default text of the notice: WebCrypto needs a secure address
    }
    return null;
  }

  const reason = unsupportedReason();
  if (reason !== null) {
    if (reason) {
      $("ecps-unsupported-reason").textContent = reason;
    }
    $("ecps-unsupported").hidden = false;
    return;
  }
  window.addEventListener("hashchange", () => route(true));
  route(false);
})();
