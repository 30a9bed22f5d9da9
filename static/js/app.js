// The clinic's own script. No inline scripts anywhere (the content security policy forbids them).
(function () {
  "use strict";

  // Idle timeout: the server ends the session after this many seconds without a request;
  // the page follows so a chart is not left open on an unattended screen.
  var idleSeconds = parseInt(document.body.dataset.idleSeconds || "0", 10);
  var loginUrl = document.body.dataset.loginUrl;
  if (idleSeconds > 0 && loginUrl) {
    var timer;
    var restart = function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        window.location.href = loginUrl + "?expired=1&next=" + encodeURIComponent(window.location.pathname);
      }, idleSeconds * 1000);
    };
    document.body.addEventListener("htmx:afterRequest", restart);
    restart();
  }

  // Confirm before something irreversible: <form data-confirm="Are you sure?">.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // Filters submit themselves when a select changes: <form data-autosubmit>.
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-autosubmit") && event.target.tagName === "SELECT") {
      if (window.htmx && form.getAttribute("hx-get")) { window.htmx.trigger(form, "submit"); } else { form.submit(); }
    }
  });
})();
