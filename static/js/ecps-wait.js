// Follows the e-CPS request and continues as soon as the phone has answered (or time is up).
(function () {
  "use strict";
  var box = document.getElementById("ecps-status");
  var form = document.getElementById("ecps-complete");
  var remaining = document.getElementById("ecps-remaining");
  if (!box || !form) { return; }
  var url = box.getAttribute("data-status-url");
  var left = parseInt(box.getAttribute("data-expires-in"), 10) || 0;
  var done = false;

  function finish() {
    if (!done) { done = true; form.submit(); }
  }

  setInterval(function () {
    if (left > 0) { left -= 1; remaining.textContent = String(left); }
  }, 1000);

  function poll() {
    if (done) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (body.status === "pending") {
          if (typeof body.expires_in === "number") { left = body.expires_in; }
          setTimeout(poll, 1000);
        } else {
          finish();
        }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 1000);
})();
