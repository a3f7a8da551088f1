// Live preview of the article body, rendered by the server with the public page's renderer.
// Without JavaScript the "Preview page" link on a saved article does the same job.
(function () {
  "use strict";
  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function setup(textarea) {
    var url = textarea.getAttribute("data-preview-url");
    if (!url || !window.fetch) { return; }
    var pane = document.createElement("div");
    pane.className = "markdown-preview";
    pane.setAttribute("aria-live", "polite");
    pane.setAttribute("aria-label", textarea.getAttribute("data-preview-label") || "Preview");
    textarea.parentNode.insertBefore(pane, textarea.nextSibling);
    var timer = null;
    var latest = 0;
    function render() {
      var ticket = ++latest;
      var body = new URLSearchParams();
      body.append("body", textarea.value);
      fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(textarea.form) }
      }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        // The server sanitised this HTML with the same allow-list as the public page.
        if (html !== null && ticket === latest) { pane.innerHTML = html; }
      }).catch(function () { /* keep the last preview; writing goes on */ });
    }
    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(render, 400);
    });
    render();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-preview-url]").forEach(setup);
  });
})();
