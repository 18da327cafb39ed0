// Reloads the enrolment page as soon as the e-CPS has answered the approval request.
(function () {
  "use strict";
  var box = document.getElementById("approval-status");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.status === "pending") { setTimeout(poll, 1000); } else { location.reload(); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 1000);
})();
