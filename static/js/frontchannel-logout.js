// Front-channel logout: once every service's logout page has loaded in its iframe (the
// window's load event waits for them), or after a few seconds if one does not answer, the
// browser goes on to the service that asked for the logout. A file, not an inline script,
// so that the page's Content-Security-Policy allows it.
(function () {
  "use strict";
  var WAIT_MS = 5000;
  var link = document.getElementById("frontchannel-continue");
  var status = document.getElementById("frontchannel-status");
  var done = false;

  function finish() {
    if (done) { return; }
    done = true;
    if (status) { status.textContent = "Les services ont été prévenus de votre déconnexion."; }
    if (link) { window.location.replace(link.getAttribute("data-continue")); }
  }

  if (document.readyState === "complete") {
    finish();
  } else {
    window.addEventListener("load", finish);
    window.setTimeout(finish, WAIT_MS);
  }
})();
