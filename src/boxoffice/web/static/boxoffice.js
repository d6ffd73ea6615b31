// boxoffice pages: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Order page: poll the order's state lightly while a payment is open and reload once it changes.
  // The page never confirms anything itself; the provider's webhook or return route does that.
  function poll(box) {
    var url = box.getAttribute("data-poll");
    var known = box.getAttribute("data-state");
    var tries = 0;
    function tick() {
      if (tries++ > 90) { return; }
      // A hidden page waits; so does one whose payment form is busy (a reload would cut it off).
      if (document.hidden || document.querySelector("form[data-busy]")) { setTimeout(tick, 2000); return; }
      fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && data.state && data.state !== known) { window.location.reload(); return; }
          setTimeout(tick, 2000);
        })
        .catch(function () { setTimeout(tick, 5000); });
    }
    setTimeout(tick, 2000);
  }

  // Payment forms: show only the fields of the chosen payment method.
  function choices(form) {
    var radios = form.querySelectorAll('input[type="radio"][name="provider"]');
    function update() {
      var chosen = form.querySelector('input[type="radio"][name="provider"]:checked');
      form.querySelectorAll("fieldset[data-for]").forEach(function (set) {
        set.hidden = !chosen || set.getAttribute("data-for") !== chosen.value;
      });
    }
    radios.forEach(function (r) { r.addEventListener("change", update); });
    update();
  }

  // Buttons that move money or cannot be undone ask first.
  function confirmations() {
    document.addEventListener("submit", function (e) {
      var button = e.submitter;
      var text = (button && button.getAttribute("data-confirm")) || e.target.getAttribute("data-confirm");
      if (text && !window.confirm(text)) { e.preventDefault(); }
    });
  }

  // Event forms: the address follows the name (as the server derives it) until someone edits it.
  function slugs(input) {
    var target = document.getElementById(input.getAttribute("data-slug-source"));
    if (!target) { return; }
    var touched = target.value !== "";
    target.addEventListener("input", function () { touched = target.value !== ""; });
    input.addEventListener("input", function () {
      if (touched) { return; }
      target.value = input.value.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
        .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-slug-source]").forEach(slugs);
    document.querySelectorAll("[data-poll]").forEach(poll);
    document.querySelectorAll("form[data-choices]").forEach(choices);
    confirmations();
  });
})();
