// The check-in scanner: posts each scan in the background and shows the result big, green or red.
// A USB/Bluetooth barcode scanner types the code and Enter, which submits the form; where the
// browser has BarcodeDetector, the camera can be used instead. Without this file the form still works.
(function () {
  "use strict";
  var box = document.querySelector("[data-scanner]");
  if (!box) { return; }
  var form = box.querySelector("[data-scan-form]");
  var input = form.querySelector("input[name=secret]");
  var result = box.querySelector("[data-result]");
  var busy = false;

  function show(data) {
    result.hidden = false;
    result.className = "scan-result " + (data.ok ? "ok" : "refused");
    result.querySelector("[data-headline]").textContent = data.headline;
    result.querySelector("[data-reason]").textContent = data.reason || "";
    var who = "";
    if (data.product) {
      who = data.product + (data.attendee ? " · " + data.attendee : "") + " · order " + data.order;
    }
    result.querySelector("[data-who]").textContent = who;
    if (data.admitted !== undefined) { box.querySelector("[data-admitted]").textContent = data.admitted; }
    // A phone at the door buzzes once for in, three times for no.
    if (navigator.vibrate) { navigator.vibrate(data.ok ? 80 : [150, 80, 150, 80, 150]); }
  }

  function submit(code) {
    if (busy || !code) { return; }
    busy = true;
    var body = new FormData(form);
    body.set("secret", code);
    fetch(form.action, { method: "POST", body: body, headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(show)
      .catch(function (status) {
        show({ ok: false, headline: "Not checked", reason: "The scan did not reach the server (" + status + "). Try again." });
      })
      .then(function () { busy = false; input.value = ""; input.focus(); });
  }

  // A barcode scanner types wherever the focus is: keys pressed outside a field go to the code field.
  document.addEventListener("keydown", function (e) {
    var target = e.target;
    if (target === input || e.ctrlKey || e.metaKey || e.altKey || e.key.length !== 1) { return; }
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) { return; }
    input.focus();
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    submit(input.value.trim());
  });

  // The camera, through the browser's own barcode reader where it has one.
  var camera = box.querySelector("[data-camera]");
  if ("BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    camera.hidden = false;
    camera.addEventListener("click", function () {
      var video = box.querySelector("[data-video]");
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      var last = "", lastAt = 0;
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        camera.hidden = true;
        return video.play();
      }).then(function () {
        function look() {
          detector.detect(video).then(function (codes) {
            var now = Date.now();
            // The same code in front of the camera is one scan, not one per frame.
            if (codes.length && (codes[0].rawValue !== last || now - lastAt > 3000)) {
              last = codes[0].rawValue; lastAt = now;
              submit(last);
            }
          }).catch(function () {}).then(function () { setTimeout(look, 250); });
        }
        look();
      }).catch(function (err) {
        show({ ok: false, headline: "No camera", reason: String(err) });
      });
    });
  }
})();
