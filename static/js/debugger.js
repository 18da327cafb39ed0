// /dev/debugger: a pending CIBA request is polled again after its interval, as a DPI would.
(function () {
  "use strict";
  var form = document.getElementById("ciba-poll");
  if (!form) return;
  var left = parseInt(form.getAttribute("data-interval"), 10) || 5;
  var status = document.getElementById("ciba-status");
  var tick = function () {
    if (left <= 0) {
      if (status) status.textContent = "Interrogation…";
      form.submit();
      return;
    }
    if (status) status.textContent = "Demande en attente : prochaine interrogation dans " + left + " s.";
    left -= 1;
    window.setTimeout(tick, 1000);
  };
  tick();
})();
