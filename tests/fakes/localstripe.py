"""localstripe in a subprocess on 127.0.0.1, patched to be closer to Stripe, plus card helpers.

Usage from a fixture::

    @pytest.fixture(scope="session")
    def localstripe_url() -> Iterator[str]:
        with running_localstripe() as server:
            yield server.base_url

What the launcher (:func:`serve`, run in the child process) changes in localstripe before it starts:

* it listens on 127.0.0.1 on a free port (it prints the port), not on every interface at 8420;
* its store never touches ``/tmp/localstripe.pickle`` (no load at start, no save on change);
* PaymentIntents accept ``description``, ``return_url`` and ``allowed_payment_method_types`` as
  Stripe does (localstripe answers 400 "Unexpected ..." otherwise);
* with a ``return_url``, an intent that needs 3-D Secure gets a ``redirect_to_url`` next action whose
  URL (``GET /_config/3ds/<id>?result=succeed|fail``) completes or fails the authentication and
  redirects to the return URL the way Stripe does;
* a declined confirmation answers like Stripe: 402 ``card_error`` with ``decline_code`` and the
  ``payment_intent`` in the error body (localstripe names only the charge);
* its fake Stripe.js (``/js.stripe.com/v3/``) behaves like the real one where boxoffice's card form
  relies on it (:data:`STRIPE_JS_ADDITIONS`): ``createPaymentMethod`` and ``confirmCardPayment``
  use the card typed into the card Element (inputs with the placeholders number, exp_month,
  exp_year, cvc, postal_code), an incomplete card is a ``validation_error`` that never reaches the
  server, a card needing 3-D Secure opens the fake's confirmation dialog, and a decline or a failed
  authentication resolves to ``{error}`` with Stripe's message; change events carry ``complete``;
* as Stripe does, the browser may create PaymentMethods and confirm an intent with the publishable
  key and the intent's client secret;
* Stripe Checkout: ``/v1/checkout/sessions`` (create, retrieve, expire) and a hosted page
  (``/_config/checkout/<id>``: the same card inputs and a Pay button) whose intent is made when the
  buyer pays, carries ``payment_intent_data.metadata``, and sends the buyer to ``success_url``
  (through the 3-D Secure page when the card needs it); a declined card stays on the page with
  Stripe's message, as on Stripe's.

Still unlike Stripe: Idempotency-Key is ignored, ``latest_charge`` is an object instead of an id,
refunds always succeed at once (no refund or dispute events), there are no disputes.
"""

from __future__ import annotations

import html
import re
import secrets
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

API_KEY = "sk_test_boxoffice"
TESTS_DIR = Path(__file__).resolve().parents[1]

# Card numbers localstripe knows (it declines 4000000000000002 only when attaching to a customer).
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"
CARD_3DS = "4000000000003220"


@dataclass
class LocalStripe:
    """A running localstripe; ``stop()`` may be called early (network-failure tests)."""

    base_url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


@contextmanager
def running_localstripe(startup_timeout: float = 30.0) -> Iterator[LocalStripe]:
    """Start localstripe, wait until it answers, yield it, stop it."""
    launcher = f"import sys; sys.path.insert(0, {str(TESTS_DIR)!r}); from fakes.localstripe import serve; serve()"
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen([sys.executable, "-c", launcher], stdout=subprocess.PIPE, stderr=errors)
        server = LocalStripe(base_url="", process=process)
        try:
            deadline = time.monotonic() + startup_timeout
            port = _read_port(process, deadline)
            server.base_url = f"http://127.0.0.1:{port}"
            _wait_until_answering(server.base_url, deadline)
        except Exception as error:
            server.stop()
            errors.seek(0)
            raise RuntimeError(f"localstripe did not start: {error}\n{errors.read().decode()}") from error
        try:
            yield server
        finally:
            server.stop()


def _read_port(process: subprocess.Popen[bytes], deadline: float) -> int:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
            raise TimeoutError("no port announced")
    line = process.stdout.readline().strip()
    if not line.isdigit():
        raise RuntimeError(f"unexpected launcher output {line!r}")
    return int(line)


def _wait_until_answering(base_url: str, deadline: float) -> None:
    while True:
        try:
            if httpx.get(f"{base_url}/v1/balance", headers=_auth(), timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("localstripe does not answer")
        time.sleep(0.05)


def _auth(api_key: str = API_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


def create_payment_method(base_url: str, number: str, api_key: str = API_KEY) -> str:
    """Create a card PaymentMethod (as Stripe.js would) and return its ``pm_…`` id."""
    response = httpx.post(
        f"{base_url}/v1/payment_methods",
        headers=_auth(api_key),
        data={
            "type": "card",
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2034",
            "card[cvc]": "123",
        },
    )
    response.raise_for_status()
    return str(response.json()["id"])


def complete_3ds(redirect_url: str, succeed: bool = True) -> str:
    """Play the buyer on the 3-D Secure page; return where Stripe sends them back (the return URL)."""
    sep = "&" if "?" in redirect_url else "?"
    response = httpx.get(f"{redirect_url}{sep}result={'succeed' if succeed else 'fail'}")
    if response.status_code != 302:
        raise RuntimeError(f"3-D Secure page answered {response.status_code}: {response.text}")
    return response.headers["location"]


def flush(base_url: str) -> None:
    """Forget every object (localstripe's own ``DELETE /_config/data``)."""
    httpx.delete(f"{base_url}/_config/data").raise_for_status()


# --- the child process -------------------------------------------------------------------------


def serve() -> None:
    """Entry point of the child process: patch localstripe, announce the port, serve until killed."""
    from aiohttp import web
    from localstripe import server

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    _patch(f"http://127.0.0.1:{port}")
    print(port, flush=True)
    web.run_app(server.app, sock=sock, print=None, access_log=None)


# Appended to localstripe's fake Stripe.js: the parts of real Stripe.js v3 that the card form uses.
STRIPE_JS_ADDITIONS = r"""
// --- appended by boxoffice's tests/fakes/localstripe.py: behave like real Stripe.js v3 ---
(function () {
  const fakeStripe = window.Stripe;

  // Real card Elements tell their listeners whether the card is complete.
  const on = Element.prototype.on;
  Element.prototype.on = function (event, handler) {
    return on.call(this, event, () => handler({
      elementType: 'card', empty: !readCard(this).number, complete: !invalid(this), brand: 'visa',
    }));
  };

  function readCard(element) {
    const value = element.value || {card: {}, postal_code: ''};
    return Object.assign({postal_code: value.postal_code}, value.card);
  }

  // Real Stripe.js checks the card in the browser; nothing incomplete reaches Stripe.
  function invalid(element) {
    const card = readCard(element);
    const month = parseInt(card.exp_month, 10);
    if (!/^[0-9]{16}$/.test(card.number || '')) {
      return {type: 'validation_error', code: 'incomplete_number', message: 'Your card number is incomplete.'};
    }
    if (!(month >= 1 && month <= 12) || !/^20[0-9]{2}$/.test(card.exp_year || '')) {
      return {type: 'validation_error', code: 'incomplete_expiry',
              message: "Your card's expiration date is incomplete."};
    }
    if (!/^[0-9]{3}$/.test(card.cvc || '')) {
      return {type: 'validation_error', code: 'incomplete_cvc', message: "Your card's security code is incomplete."};
    }
    return null;
  }

  function methodData(element, billing) {
    const card = readCard(element);
    const details = Object.assign({}, billing || {});
    details.address = Object.assign({}, details.address || {});
    if (card.postal_code && !details.address.postal_code) {
      details.address.postal_code = card.postal_code;
    }
    return {
      type: 'card',
      card: {number: card.number, exp_month: card.exp_month, exp_year: card.exp_year, cvc: card.cvc},
      billing_details: details,
    };
  }

  async function post(apiKey, path, body) {
    try {
      // A text body, as the fake's own calls: no CORS preflight.
      const response = await fetch(LOCALSTRIPE_BASE_API + path, {
        method: 'POST', body: JSON.stringify(Object.assign({key: apiKey}, body)),
      });
      const json = await response.json().catch(() => ({}));
      if (response.status !== 200 || json.error) {
        return {error: json.error || {type: 'api_error', message: 'Stripe answered ' + response.status}};
      }
      return {ok: json};
    } catch (err) {
      return {error: {type: 'api_connection_error', message: String(err)}};
    }
  }

  async function createPaymentMethod(apiKey, typeOrData, element, extra) {
    const data = typeof typeOrData === 'string'
      ? Object.assign({type: typeOrData, card: element}, extra || {}) : (typeOrData || {});
    if (data.type !== 'card' || !(data.card instanceof Element)) {
      return {error: {type: 'invalid_request_error', message: 'createPaymentMethod needs a card Element.'}};
    }
    const problem = invalid(data.card);
    if (problem) { return {error: problem}; }
    const answer = await post(apiKey, '/v1/payment_methods', methodData(data.card, data.billing_details));
    return answer.error ? {error: answer.error} : {paymentMethod: answer.ok};
  }

  async function confirmCardPayment(apiKey, clientSecret, data, options) {
    const found = /^(pi_[A-Za-z0-9]+)_secret_/.exec(clientSecret || '');
    if (!found) {
      return {error: {type: 'invalid_request_error', message: 'Invalid value for confirmCardPayment intent secret.'}};
    }
    const path = '/v1/payment_intents/' + found[1];
    const method = (data || {}).payment_method;
    const body = {client_secret: clientSecret};
    if (typeof method === 'string') {
      body.payment_method = method;
    } else if (method && method.card instanceof Element) {
      const problem = invalid(method.card);
      if (problem) { return {error: problem}; }
      body.payment_method_data = methodData(method.card, method.billing_details);
    }
    let answer = await post(apiKey, path + '/confirm', body);
    if (answer.error) { return {error: answer.error}; }
    let intent = answer.ok;
    if (intent.status === 'requires_action' && !(options && options.handleActions === false)) {
      const success = await openModal('3D Secure\nDo you want to confirm or cancel?',
                                      'Complete authentication', 'Fail authentication');
      answer = await post(apiKey, path + '/_authenticate?success=' + success, {client_secret: clientSecret});
      if (answer.error) { return {error: answer.error}; }
      intent = answer.ok;
      if (intent.status === 'requires_payment_method') {
        const failure = intent.last_payment_error || {};
        return {error: {type: 'card_error', code: failure.code, message: failure.message, payment_intent: intent}};
      }
    }
    return {paymentIntent: intent};
  }

  window.Stripe = function (apiKey) {
    const stripe = fakeStripe(apiKey);
    stripe.createPaymentMethod = (typeOrData, element, extra) =>
      createPaymentMethod(apiKey, typeOrData, element, extra);
    stripe.confirmCardPayment = (clientSecret, data, options) =>
      confirmCardPayment(apiKey, clientSecret, data, options);
    return stripe;
  };
})();
"""

# What the browser may do with the publishable key (as at Stripe): no Authorization header.
_BROWSER_CONFIRM = re.compile(r"^/v1/payment_intents/(pi_\w+)/confirm$")
_CHECKOUT_API = re.compile(r"^/v1/checkout/sessions(?:/(cs_test_\w+)(/expire)?)?$")
_CHECKOUT_PAGE = re.compile(r"^/_config/checkout/(cs_test_\w+)$")
_CHECKOUT_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stripe Checkout (fake)</title></head>
<body><main><h1>Pay {amount} {currency}</h1><p>{name}</p><p role="alert">{error}</p>
<form method="post"><fieldset><legend>Card</legend>
<input name="number" placeholder="number" aria-label="Card number">
<input name="exp_month" placeholder="exp_month" aria-label="Expiry month">
<input name="exp_year" placeholder="exp_year" aria-label="Expiry year">
<input name="cvc" placeholder="cvc" aria-label="CVC"></fieldset>
<button type="submit">Pay</button></form><p><a href="{cancel}">Back</a></p></main></body></html>"""


def _patch(base_url: str) -> None:
    from aiohttp import web
    from localstripe import resources, server
    from localstripe.errors import UserError

    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
    resources.Store.try_load_from_disk = lambda self: None  # type: ignore[method-assign]

    intent_class: Any = resources.PaymentIntent
    original_init = intent_class.__init__
    original_confirm = intent_class._confirm
    original_report_failure = intent_class._report_failure

    def init(
        self: Any,
        *args: Any,
        description: str | None = None,
        return_url: str | None = None,
        allowed_payment_method_types: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        original_init(self, *args, **kwargs)
        self.description = description
        self.payment_method_types = list(allowed_payment_method_types or ["card"])
        self._return_url = return_url

    def confirm(self: Any, on_failure_now: Any) -> None:
        original_confirm(self, on_failure_now)
        if self.next_action and getattr(self, "_return_url", None):
            self.next_action = {
                "type": "redirect_to_url",
                "redirect_to_url": {"url": f"{base_url}/_config/3ds/{self.id}", "return_url": self._return_url},
            }

    def report_failure(self: Any) -> None:
        try:
            original_report_failure(self)
        except UserError as error:
            details = error.body["error"]
            details["type"] = "card_error"
            details.setdefault("decline_code", "generic_decline")
            details["payment_intent"] = self._export()
            raise

    async def three_d_secure_page(request: Any) -> Any:
        intent = intent_class._api_retrieve(request.match_info["id"])
        succeed = request.query.get("result", "succeed") == "succeed"
        try:
            intent_class._api_authenticate(intent.id, client_secret=intent.client_secret, success=succeed)
        except UserError:
            succeed = False  # authenticated, then declined
        query = urlencode(
            {
                "payment_intent": intent.id,
                "payment_intent_client_secret": intent.client_secret,
                "redirect_status": "succeeded" if succeed else "failed",
            }
        )
        return_url = intent._return_url
        raise web.HTTPFound(f"{return_url}{'&' if '?' in return_url else '?'}{query}")

    def browser_confirm(intent_id: str, data: dict[str, Any]) -> Any:
        """Stripe.js confirming an intent with the buyer's card: publishable key and client secret."""
        intent = intent_class._api_retrieve(intent_id)
        if data.get("client_secret") != intent.client_secret:
            raise UserError(401, "The client secret does not belong to this PaymentIntent.")
        if intent.status not in ("requires_payment_method", "requires_confirmation"):
            raise UserError(400, f"This PaymentIntent's status is {intent.status}.",
                            {"code": "payment_intent_unexpected_state"})  # fmt: skip
        method = data.get("payment_method")
        if isinstance(data.get("payment_method_data"), dict):
            method = resources.PaymentMethod._api_create(**data["payment_method_data"]).id
        if not isinstance(method, str):
            raise UserError(400, "A payment method is required.")
        resources.PaymentMethod._api_retrieve(method)
        intent.payment_method, intent.latest_charge = method, None  # a new card, a new charge
        intent._confirm(on_failure_now=intent._report_failure)
        return intent

    sessions: dict[str, dict[str, Any]] = {}

    def session_view(session: dict[str, Any]) -> dict[str, Any]:
        intent_id = session["_intent"]
        paid = bool(intent_id) and intent_class._api_retrieve(intent_id).status == "succeeded"
        status = "complete" if paid else "expired" if session["_expired"] else "open"
        public = {k: v for k, v in session.items() if not k.startswith("_")}
        return {**public, "status": status, "payment_status": "paid" if paid else "unpaid", "payment_intent": intent_id}

    def checkout_api(request: Any, data: dict[str, Any], session_id: str | None, expire: bool) -> Any:
        if not request.headers.get("Authorization", "").startswith("Bearer sk_"):
            raise UserError(401, "Unauthorized")
        if session_id is None and request.method == "POST":
            line = data["line_items"][0]
            price = line["price_data"]
            session_id = f"cs_test_{secrets.token_hex(12)}"
            sessions[session_id] = {
                "id": session_id, "object": "checkout.session", "url": f"{base_url}/_config/checkout/{session_id}",
                "amount_total": int(price["unit_amount"]) * int(line.get("quantity", 1)),
                "currency": price["currency"], "metadata": data.get("metadata") or {},
                "success_url": data["success_url"], "cancel_url": data["cancel_url"],
                "customer_email": data.get("customer_email"), "_intent": None, "_expired": False,
                "_intent_data": data.get("payment_intent_data") or {}, "_name": price["product_data"]["name"],
            }  # fmt: skip
        elif session_id not in sessions:
            raise UserError(404, "No such checkout.session")
        session = sessions[session_id]
        if expire:
            if session_view(session)["status"] != "open":
                raise UserError(400, "Only open Checkout Sessions can be expired.")
            session["_expired"] = True
        return server.json_response(session_view(session))

    def checkout_page(session: dict[str, Any], error: str = "") -> Any:
        text = _CHECKOUT_HTML.format(
            amount=session["amount_total"], currency=session["currency"].upper(), name=html.escape(session["_name"]),
            error=html.escape(error), cancel=html.escape(session["cancel_url"]),
        )  # fmt: skip
        return web.Response(text=text, content_type="text/html")

    async def checkout_pay(request: Any, session: dict[str, Any]) -> Any:
        """The buyer pays on the hosted page: the session's intent is made now and confirmed with the card."""
        if session_view(session)["status"] != "open":
            return checkout_page(session, "This payment page is no longer open.")
        form = await request.post()
        if session["_intent"] is None:
            intent = intent_class._api_create(
                amount=session["amount_total"], currency=session["currency"],
                metadata=session["_intent_data"].get("metadata") or {},
                description=session["_intent_data"].get("description"), return_url=session["success_url"],
            )  # fmt: skip
            session["_intent"] = intent.id
        intent = intent_class._api_retrieve(session["_intent"])
        card = {name: str(form.get(name, "")) for name in ("number", "exp_month", "exp_year", "cvc")}
        try:
            browser_confirm(intent.id, {"client_secret": intent.client_secret,
                                        "payment_method_data": {"type": "card", "card": card}})  # fmt: skip
        except UserError as error:
            return checkout_page(session, str(error.body["error"].get("message") or "Your card was declined."))
        if intent.next_action:
            raise web.HTTPFound(intent.next_action["redirect_to_url"]["url"])
        raise web.HTTPFound(session["success_url"])

    js_path = Path(server.__file__).with_name("localstripe-v3.js")

    @web.middleware
    async def browser(request: Any, handler: Any) -> Any:
        if request.method == "GET" and request.path == "/js.stripe.com/v3/":
            text = js_path.read_text() + STRIPE_JS_ADDITIONS
            return web.Response(text=text, content_type="application/javascript")
        api = _CHECKOUT_API.match(request.path)
        if api is not None:
            data = await server.get_post_data(request) if request.method == "POST" else {}
            return checkout_api(request, data or {}, api.group(1), bool(api.group(2)))
        hosted = _CHECKOUT_PAGE.match(request.path)
        if hosted is not None:
            session = sessions.get(hosted.group(1))
            if session is None:
                raise UserError(404, "No such checkout.session")
            return await checkout_pay(request, session) if request.method == "POST" else checkout_page(session)
        if request.method != "POST" or request.headers.get("Authorization"):
            return await handler(request)
        confirm_of = _BROWSER_CONFIRM.match(request.path)
        if confirm_of is None and request.path != "/v1/payment_methods":
            return await handler(request)
        data = await server.get_post_data(request, remove_auth=False) or {}
        if not str(data.pop("key", "")).startswith("pk_"):
            raise UserError(401, "Unauthorized")
        if confirm_of is None:
            return server.json_response(resources.PaymentMethod._api_create(**data)._export())
        return server.json_response(browser_confirm(confirm_of.group(1), data)._export())

    intent_class.__init__ = init
    intent_class._confirm = confirm
    intent_class._report_failure = report_failure
    server.app.router.add_get("/_config/3ds/{id}", three_d_secure_page)
    server.app.middlewares.insert(1, browser)  # inside localstripe's error middleware, before its auth
