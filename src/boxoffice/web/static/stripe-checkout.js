// The order page's Stripe card form, written for Stripe.js v3: a card Element, and
// confirmCardPayment with the client secret of a PaymentIntent that boxoffice creates for a new
// attempt. 3-D Secure runs in Stripe.js's own window on the page. This script never decides whether
// a payment succeeded: once Stripe.js is done, the browser opens the signed return URL, where
// boxoffice asks Stripe. A file of its own (no inline code), so a strict Content-Security-Policy works.
(function () {
  "use strict";

  var box = document.querySelector("[data-stripe-card]");
  if (!box) { return; }
  var form = box.closest("form");
  var button = form.querySelector('button[type="submit"]');
  var errorBox = document.getElementById("stripe-card-error");

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }

  if (typeof window.Stripe !== "function") {
    showError("The card form could not be loaded. Reload the page or choose another payment method.");
    return;
  }

  var stripe = window.Stripe(box.getAttribute("data-publishable-key"));
  var card = stripe.elements().create("card");
  card.mount("#stripe-card-element");
  // Stripe.js says as the buyer types whether the card is wrong; a corrected card clears the message.
  card.on("change", function (event) {
    if (event) { showError(event.error ? event.error.message : ""); }
  });

  // The intent of this page's attempt while it has not reached the bank (after a typing mistake).
  var open = null;

  function chosen() {
    var radio = form.querySelector('input[type="radio"][name="provider"]:checked');
    return radio ? radio.value : box.getAttribute("data-for");
  }

  function busy(on) {
    // data-busy also keeps the order page's polling from reloading the page mid-payment.
    if (on) { form.setAttribute("data-busy", ""); } else { form.removeAttribute("data-busy"); }
    if (button) { button.disabled = on; }
  }

  function startAttempt() {
    return fetch(box.getAttribute("data-intent-url"), {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok || !data["client-secret"]) {
          throw new Error(data.error || "The card payment could not start. Please try again.");
        }
        return { clientSecret: data["client-secret"], returnUrl: data["return-url"] };
      });
    });
  }

  form.addEventListener("submit", function (event) {
    if (chosen() !== box.getAttribute("data-for")) { return; }
    event.preventDefault();
    if (form.hasAttribute("data-busy")) { return; }
    busy(true);
    showError("");
    (open ? Promise.resolve(open) : startAttempt())
      .then(function (intent) {
        open = intent;
        return stripe.confirmCardPayment(intent.clientSecret, { payment_method: { card: card } })
          .then(function (result) {
            if (result.error && result.error.type === "validation_error") {
              // Nothing reached the bank: the buyer corrects the card, the same intent is confirmed.
              showError(result.error.message);
              busy(false);
              return;
            }
            // Paid, declined or still in progress: boxoffice asks Stripe and shows the order.
            open = null;
            window.location.assign(intent.returnUrl);
          });
      })
      .catch(function (error) {
        showError(error.message);
        busy(false);
      });
  });
})();
