"""The sandbox: a test card provider for demos and tests that behaves like a remote one.

Its "processor" (:mod:`.processor`) keeps its own intents and refunds with their own ids
(``sbx_pi_…``, ``sbx_re_…``) and reports every outcome through a signed callback to
``/v1/webhooks/sandbox`` — delivered in process, through the same inbox code as Stripe's — so the
sandbox exercises the paths a real provider takes. Test card numbers (:mod:`.cards`):

* ``4242424242424242`` succeeds;
* ``4000000000000002`` is declined with "Your card was declined.";
* ``4000000000003220`` requires action: the buyer approves or declines on ``/sandbox/confirm/{token}``.

Any other number that passes the Luhn check succeeds. Refunds, full and partial, always succeed.
"""
