// form_post response mode: sends the authorization response to the client at once. A file,
// not an inline script, so that the page's Content-Security-Policy allows it.
(function () {
  "use strict";
  var form = document.getElementById("form-post");
  if (form) { form.submit(); }
})();
