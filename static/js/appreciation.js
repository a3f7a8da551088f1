/* Appreciation widget: presets fill the amount, the amount is checked as the reader types and
   formatted for the page's language, and the fee cover follows the amount. The form works
   without this file; the server checks everything again. No inline script, no dependencies. */
(function () {
  "use strict";

  function mountEmbedded() {
    var box = document.getElementById("embedded-checkout");
    if (!box || !window.Stripe) return;
    var secret = box.getAttribute("data-client-secret");
    window.Stripe(box.getAttribute("data-publishable-key"))
      .initEmbeddedCheckout({ fetchClientSecret: function () { return Promise.resolve(secret); } })
      .then(function (checkout) { box.textContent = ""; checkout.mount(box); });
  }

  function setup(form) {
    var d = form.dataset;
    var digits = +d.digits, min = +d.min, max = +d.max, bp = +d.feeBp, fixed = +d.feeFixed;
    var locale = d.locale === "en" ? "en-GB" : "nl-NL";
    var money = new Intl.NumberFormat(locale, { style: "currency", currency: d.currency });
    var plain = new Intl.NumberFormat(locale, {
      minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false
    });
    var input = form.querySelector("[name=amount]");
    var presets = form.querySelectorAll("[name=preset]");
    var cover = form.querySelector("[name=cover_fee]");
    var coverLabel = cover && form.querySelector("label[for='" + cover.id + "']");
    var total = form.querySelector("[data-total]");
    // A cached page gives every reader the same server nonce; this one is this visitor's, so a
    // double click or Back + resubmit reuses their own pending payment and nobody else's.
    var own = form.querySelector("[name=client_nonce]");
    if (own && !own.value) {
      own.value = window.crypto && crypto.randomUUID ? crypto.randomUUID()
        : Date.now().toString(36) + "-" + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
    }
    if (!input) return;
    // The error text lives in a polite live region that exists before any message, so a screen
    // reader announces the first one too, not only later changes.
    var errorBox = document.getElementById(input.id + "_error");
    if (!errorBox) {
      errorBox = document.createElement("p");
      errorBox.id = input.id + "_error";
      errorBox.className = "invalid-feedback";
      input.insertAdjacentElement("afterend", errorBox);
    }
    errorBox.setAttribute("aria-live", "polite");

    function show(cents) { return money.format(cents / Math.pow(10, digits)); }

    function feeFor(cents) {
      var n = (cents + fixed) * 10000, q = 10000 - bp;
      return Math.floor(n / q) + (n % q ? 1 : 0) - cents;
    }

    // Mirrors payments.money.parse_amount; returns cents or an error key.
    function parse(text) {
      var t = text.replace(/[\s\u00a0\u202f]/g, "").replace(/^(€|EUR)|(€|EUR)$/i, "").replace(/[.,]-$/, "");
      if (!t) return "empty";
      var m = /^(\d+)(?:[.,](\d*))?$/.exec(t);
      if (!m) return "invalid";
      var frac = m[2] || "";
      if (frac.length === 3 && digits < 3) return "ambiguous";
      if (frac.length > digits) return "decimals";
      if (m[1].length > 9) return "max";
      var cents = +m[1] * Math.pow(10, digits) + +(frac + "000").slice(0, digits);
      if (cents < min) return "min";
      if (cents > max) return "max";
      return cents;
    }

    function chosen() {
      if (input.value.trim()) return parse(input.value);
      for (var i = 0; i < presets.length; i++) if (presets[i].checked) return +presets[i].value;
      return "empty";
    }

    function setError(key) {
      var id = input.id + "_error";
      var box = document.getElementById(id);
      var text = key ? d["msg" + key.charAt(0).toUpperCase() + key.slice(1)] : "";
      if (!box && text) {
        box = document.createElement("p");
        box.id = id;
        box.className = "invalid-feedback";
        input.insertAdjacentElement("afterend", box);
      }
      var describedBy = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (x) {
        return x && x !== id;
      });
      if (text) {
        box.textContent = text;
        describedBy.push(id);
        input.setAttribute("aria-invalid", "true");
      } else {
        if (box) box.textContent = "";
        input.removeAttribute("aria-invalid");
      }
      input.setAttribute("aria-describedby", describedBy.join(" "));
    }

    function update(strict) {
      var cents = chosen();
      var ok = typeof cents === "number";
      if (strict || ok || !input.value.trim()) setError(ok || !input.value.trim() ? "" : cents);
      if (coverLabel && ok) coverLabel.textContent = d.feeLabel.replace("{fee}", show(feeFor(cents)));
      if (total) {
        total.hidden = !ok;
        if (ok) total.textContent = d.totalLabel.replace("{total}", show(cents + (cover && cover.checked ? feeFor(cents) : 0)));
      }
      return cents;
    }

    presets.forEach(function (radio) {
      radio.addEventListener("change", function () {
        input.value = plain.format(+radio.value / Math.pow(10, digits));
        setError("");
        update(false);
        radio.checked = true;
      });
    });
    input.addEventListener("input", function () {
      var cents = update(false);
      presets.forEach(function (radio) { radio.checked = +radio.value === cents; });
    });
    input.addEventListener("blur", function () {
      var cents = update(true);
      if (typeof cents === "number") input.value = plain.format(cents / Math.pow(10, digits));
    });
    if (cover) cover.addEventListener("change", function () { update(false); });
    form.addEventListener("submit", function (event) {
      // "Send without paying" (feedback) needs no amount.
      if (event.submitter && event.submitter.name === "free") return;
      var cents = update(true);
      if (typeof cents !== "number") {
        event.preventDefault();
        input.focus();
      }
    });
    update(false);
  }

  document.querySelectorAll("form.appreciation-form").forEach(setup);
  mountEmbedded();
})();
