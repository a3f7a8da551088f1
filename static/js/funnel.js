/* Privacy-friendly counting: one beacon when the article is read ("view") and one when the
   appreciation widget scrolls into view ("seen"). Only the article id and the event are sent,
   to our own server; no cookies, no identifiers. Prerendered pages wait until shown. */
(function () {
  "use strict";
  var s = document.currentScript;
  var url = s && s.getAttribute("data-url"), id = s && s.getAttribute("data-article");
  if (!url || !id) return;

  function send(event) {
    if (navigator.sendBeacon) {
      var body = new URLSearchParams();
      body.set("a", id);
      body.set("e", event);
      navigator.sendBeacon(url, body);
    } else if (event === "view") {
      new Image().src = s.getAttribute("data-pixel");
    }
  }

  function start() {
    send("view");
    var widget = document.getElementById("waardeer");
    if (!widget || !window.IntersectionObserver) return;
    var observer = new IntersectionObserver(function (entries) {
      for (var i = 0; i < entries.length; i++) {
        if (entries[i].isIntersecting) {
          observer.disconnect();
          send("seen");
          return;
        }
      }
    }, { threshold: 0.3 });
    observer.observe(widget);
  }

  if (document.prerendering) {
    document.addEventListener("prerenderingchange", start, { once: true });
  } else {
    start();
  }
})();
