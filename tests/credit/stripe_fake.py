"""A fake of the Stripe API on a local port, reached over real HTTP by stripe-python.

How to use it
-------------
In a test module (the fixture is named `stripe_fake`)::

    from tests.credit.stripe_fake import stripe_fake_server  # noqa: F401 (the fixture)

    def test_something(stripe_fake, ...):
        ...

The fixture starts the server and points the app at it: `settings.STRIPE_API_BASE` (the fake's
URL), `settings.STRIPE_SECRET_KEY` ("sk_test_fake", checked on every request: a wrong key gets
401) and `settings.STRIPE_WEBHOOK_SECRET` (`FakeStripe.WEBHOOK_SECRET`). Then:

- `stripe_fake.requests`: every API request, oldest first: `method`, `path`, `params` (the form
  body decoded into nested dicts and lists), `idempotency_key` (the Idempotency-Key header).
- `stripe_fake.sessions`, `.payment_intents`, `.setup_intents`, `.payment_methods`,
  `.customers`: what was created, by id.
- `stripe_fake.fail_payments_with("card_declined")` (or "authentication_required", ...):
  from now on, creating a confirmed PaymentIntent answers 402 with that card error, as Stripe
  does for an off-session charge that is refused. `fail_payments_with(None)` stops it.
- Webhook events, signed with stripe-python's own signing code:
  `event = stripe_fake.event("payment_intent.succeeded", intent_dict)` builds one;
  `payload, headers = stripe_fake.signed(event, timestamp=None)` signs it (pass an old
  `timestamp` to test the tolerance); `stripe_fake.post_to(client, url, event)` posts it with
  Django's test client. `stripe_fake.pay_session(session_id, payment_status="paid")` does
  what a payer on the hosted page does and returns the `checkout.session.completed` event
  without sending it.

For the browser test
--------------------
Each Checkout Session's `url` is a page of the fake: the hosted checkout page, with the amount
(`#summary`), a "Pay" button (`#pay`) and a "Cancel" link (`#cancel`). Set
`stripe_fake.webhook_url` to the live server's `/webhooks/stripe/` address: pressing "Pay"
then completes the session, POSTs the signed
`checkout.session.completed` event there, and redirects the browser to the session's
`success_url`; "Cancel" goes to its `cancel_url`. With `webhook_url` set, an off-session
PaymentIntent also sends `payment_intent.succeeded` (or `payment_intent.payment_failed`) there.
The webhook is posted before the redirect, so the return page finds the purchase credited; with
`stripe_fake.webhook_delay` set to some seconds it is posted that much after the redirect
instead, and the return page shows "Payment processing…" until it lands.

`stripe_fake.delivered` lists the webhooks sent, with the status the app answered.

Outside pytest (to click through the pages by hand), `FakeStripe()` starts the same server:
run the app with STRIPE_API_BASE=<fake.url>, STRIPE_SECRET_KEY=sk_test_fake and
STRIPE_WEBHOOK_SECRET=whsec_test_fake_secret, and set `fake.webhook_url`.

The browser's Content-Security-Policy must allow the redirect to the fake: the app adds the
origin of STRIPE_API_BASE to the buy page's `form-action` (credit.services.stripe_gateway).
"""

import html
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe

from tests.local_http import LocalHTTPServer

CARD = {"brand": "visa", "display_brand": "visa", "last4": "4242", "exp_month": 12}


def decode_params(pairs: list[tuple[str, str]]):
    """Stripe's form encoding (`a[b][0][c]=v`) back into nested dicts and lists."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if isinstance(node, dict):
        if node and all(key.isdigit() for key in node):
            return [_lists(node[key]) for key in sorted(node, key=int)]
        return {key: _lists(value) for key, value in node.items()}
    return node


def _true(value) -> bool:
    return str(value).lower() == "true"


class FakeStripe:
    WEBHOOK_SECRET = "whsec_test_fake_secret"
    API_KEY = "sk_test_fake"

    def __init__(self):
        self.requests: list[dict] = []
        self.sessions: dict[str, dict] = {}
        self.payment_intents: dict[str, dict] = {}
        self.setup_intents: dict[str, dict] = {}
        self.payment_methods: dict[str, dict] = {}
        self.customers: dict[str, dict] = {}
        self.webhook_url: str | None = None
        self.webhook_delay = 0.0
        self.delivered: list[dict] = []
        self._failure: str | None = None
        self._idempotent: dict[str, tuple[str, dict, int, dict]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._pending: list = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake._dispatch(self, "GET")

            def do_POST(self):
                fake._dispatch(self, "POST")

            def log_message(self, *args):
                pass

        self.http = LocalHTTPServer(Handler)
        self.url = self.http.url

    def close(self):
        self.http.close()

    # --- Controls for tests ------------------------------------------------------------------

    def fail_payments_with(self, code: str | None) -> None:
        self._failure = code

    @property
    def posts(self) -> list[dict]:
        return [request for request in self.requests if request["method"] == "POST"]

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):06d}"

    # --- Events ------------------------------------------------------------------------------

    def event(self, event_type: str, obj: dict, *, event_id: str | None = None) -> dict:
        return {
            "id": event_id or self.new_id("evt"),
            "object": "event",
            "api_version": "2026-01-01",
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": obj},
        }

    def signed(self, event: dict | str, *, timestamp: int | None = None, secret: str | None = None):
        """(payload, headers) of a webhook request, signed like Stripe signs them."""
        payload = event if isinstance(event, str) else json.dumps(event)
        timestamp = int(time.time()) if timestamp is None else timestamp
        signature = stripe.WebhookSignature._compute_signature(
            f"{timestamp}.{payload}", secret or self.WEBHOOK_SECRET
        )
        return payload, {"Stripe-Signature": f"t={timestamp},v1={signature}"}

    def post_to(self, client, url: str, event: dict | str, **sign):
        payload, headers = self.signed(event, **sign)
        return client.post(
            url,
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
        )

    def deliver(self, event: dict, url: str | None = None) -> int:
        """POST a signed event to `url` (default: webhook_url) over HTTP; the status."""
        payload, headers = self.signed(event)
        request = urllib.request.Request(  # noqa: S310 (a local address chosen by the test)
            url or self.webhook_url,
            data=payload.encode(),
            headers={**headers, "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        self.delivered.append({"event": event, "status": status})
        return status

    # --- What a payer does on the hosted page ------------------------------------------------

    def pay_session(self, session_id: str, payment_status: str = "paid") -> dict:
        """Complete a Checkout Session as Stripe does when the payer pays; return the
        `checkout.session.completed` event (not sent)."""
        with self._lock:
            session = self.sessions[session_id]
            if session["mode"] == "setup":
                method = self._payment_method("card", session.get("customer"))
                intent = {
                    "id": self.new_id("seti"),
                    "object": "setup_intent",
                    "status": "succeeded",
                    "customer": session.get("customer"),
                    "payment_method": method["id"],
                    "usage": "off_session",
                    "metadata": (session.get("setup_intent_data") or {}).get("metadata", {}),
                }
                self.setup_intents[intent["id"]] = intent
                session.update(status="complete", setup_intent=intent["id"])
                return self.event("checkout.session.completed", dict(session))
            data = session.get("payment_intent_data") or {}
            if session.get("customer_creation") == "always" and not session.get("customer"):
                session["customer"] = self._customer({})[1]["id"]
            kind = (session.get("payment_method_types") or ["card"])[0]
            method = self._payment_method(kind, session.get("customer"))
            intent = {
                "id": self.new_id("pi"),
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_received": session["amount_total"] if payment_status == "paid" else 0,
                "currency": session["currency"],
                "customer": session.get("customer"),
                "payment_method": method["id"],
                "setup_future_usage": data.get("setup_future_usage"),
                "status": "succeeded" if payment_status == "paid" else "processing",
                "metadata": data.get("metadata", {}),
            }
            self.payment_intents[intent["id"]] = intent
            session.update(
                status="complete", payment_status=payment_status, payment_intent=intent["id"]
            )
            return self.event("checkout.session.completed", dict(session))

    def charge_of(self, intent_id: str, *, refunded_minor: int, refund_id: str | None = None):
        """A charge object of a PaymentIntent after a refund of `refunded_minor` in all."""
        intent = self.payment_intents[intent_id]
        charge = {
            "id": "ch_" + intent_id[3:],
            "object": "charge",
            "amount": intent["amount"],
            "amount_refunded": refunded_minor,
            "currency": intent["currency"],
            "paid": True,
            "refunded": refunded_minor >= intent["amount"],
            "payment_intent": intent_id,
            "metadata": intent["metadata"],
        }
        if refund_id:
            charge["refunds"] = {
                "object": "list",
                "data": [{"id": refund_id, "amount": refunded_minor, "status": "succeeded"}],
            }
        return charge

    # --- The HTTP side -----------------------------------------------------------------------

    def _dispatch(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        path = urlsplit(handler.path).path
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        if path.startswith("/checkout/"):
            self._hosted_page(handler, method, path)
            return
        if path == "/favicon.ico":
            handler.send_response(204)
            handler.end_headers()
            return
        params = decode_params(parse_qsl(body, keep_blank_values=True))
        key = handler.headers.get("Idempotency-Key")
        with self._lock:
            self._pending = []
            self.requests.append(
                {"method": method, "path": path, "params": params, "idempotency_key": key}
            )
            if handler.headers.get("Authorization") != f"Bearer {self.API_KEY}":
                status, answer = 401, {"error": {"type": "invalid_request_error"}}
            elif method == "POST" and key and key in self._idempotent:
                first_path, first_params, status, answer = self._idempotent[key]
                if (first_path, first_params) != (path, params):
                    status, answer = (
                        400,
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": "Keys for idempotent requests can only be used with "
                                "the same parameters they were first used with.",
                            }
                        },
                    )
            else:
                status, answer = self._route(method, path, params)
                if method == "POST" and key:
                    self._idempotent[key] = (path, params, status, answer)
            follow_ups, self._pending = self._pending, []
        self._answer(handler, status, answer)
        for follow_up in follow_ups:
            threading.Thread(target=follow_up, daemon=True).start()

    def _answer(self, handler, status: int, answer: dict) -> None:
        payload = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        routes = {
            ("POST", "/v1/checkout/sessions"): self._create_session,
            ("POST", "/v1/payment_intents"): self._create_intent,
            ("POST", "/v1/customers"): self._customer,
        }
        if (method, path) in routes:
            return routes[(method, path)](params)
        found = re.fullmatch(
            r"/v1/(checkout/sessions|payment_intents|setup_intents|payment_methods|customers)"
            r"/([\w-]+)",
            path,
        )
        if method == "GET" and found:
            store = {
                "checkout/sessions": self.sessions,
                "payment_intents": self.payment_intents,
                "setup_intents": self.setup_intents,
                "payment_methods": self.payment_methods,
                "customers": self.customers,
            }[found.group(1)]
            if found.group(2) in store:
                return 200, store[found.group(2)]
        return 404, {
            "error": {"type": "invalid_request_error", "message": f"No such thing: {path}"}
        }

    def _create_session(self, params: dict):
        session_id = self.new_id("cs")
        items = params.get("line_items") or []
        total = sum(
            int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1)) for item in items
        )
        currency = items[0]["price_data"]["currency"] if items else params.get("currency")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"{self.url}/checkout/{session_id}",
            "mode": params.get("mode", "payment"),
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": total if items else None,
            "currency": currency,
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata", {}),
            "customer": params.get("customer"),
            "customer_creation": params.get("customer_creation"),
            "payment_intent": None,
            "setup_intent": None,
            "payment_method_types": params.get("payment_method_types", ["card"]),
            "payment_intent_data": params.get("payment_intent_data", {}),
            "setup_intent_data": params.get("setup_intent_data", {}),
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
        }
        self.sessions[session_id] = session
        return 200, session

    def _customer(self, params: dict):
        customer = {
            "id": self.new_id("cus"),
            "object": "customer",
            "name": params.get("name"),
            "metadata": params.get("metadata", {}),
        }
        self.customers[customer["id"]] = customer
        return 200, customer

    def _payment_method(self, kind: str, customer: str | None) -> dict:
        method = {
            "id": self.new_id("pm"),
            "object": "payment_method",
            "type": kind,
            "customer": customer,
        }
        if kind == "card":
            method["card"] = dict(CARD)
        elif kind == "paypal":
            method["paypal"] = {"payer_email": "payer@example.com"}
        self.payment_methods[method["id"]] = method
        return method

    def _create_intent(self, params: dict):
        intent = {
            "id": self.new_id("pi"),
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_received": 0,
            "currency": params["currency"],
            "customer": params.get("customer"),
            "payment_method": params.get("payment_method"),
            "off_session": _true(params.get("off_session")),
            "status": "requires_confirmation",
            "metadata": params.get("metadata", {}),
            "last_payment_error": None,
        }
        self.payment_intents[intent["id"]] = intent
        if not _true(params.get("confirm")):
            return 200, intent
        if self._failure:
            error = {
                "type": "card_error",
                "code": self._failure,
                "decline_code": "generic_decline" if self._failure == "card_declined" else None,
                "message": {
                    "card_declined": "Your card was declined.",
                    "authentication_required": "Your card was declined. This transaction "
                    "requires authentication.",
                }.get(self._failure, "Your card could not be charged."),
            }
            intent.update(status="requires_payment_method", last_payment_error=error)
            self._send_later("payment_intent.payment_failed", intent)
            return 402, {"error": {**error, "payment_intent": intent}}
        intent.update(status="succeeded", amount_received=intent["amount"])
        self._send_later("payment_intent.succeeded", intent)
        return 200, intent

    def _send_later(self, event_type: str, obj: dict) -> None:
        """Like Stripe, tell the webhook after answering the API request (if one is set)."""
        if not self.webhook_url:
            return
        event = self.event(event_type, dict(obj))

        def send():
            time.sleep(self.webhook_delay)
            self.deliver(event)

        self._pending.append(send)

    # --- The hosted checkout page ------------------------------------------------------------

    def _hosted_page(self, handler, method: str, path: str) -> None:
        session_id = path.split("/")[2] if path.count("/") >= 2 else ""
        session = self.sessions.get(session_id)
        if session is None:
            self._html(handler, 404, "<h1>No such checkout session</h1>")
            return
        if method == "POST" and path.endswith("/pay"):
            event = self.pay_session(session_id)
            if self.webhook_url and self.webhook_delay:
                # Later, as Stripe may: the payer first sees "Payment processing…".
                def send():
                    time.sleep(self.webhook_delay)
                    self.deliver(event)

                threading.Thread(target=send, daemon=True).start()
            elif self.webhook_url:
                self.deliver(event)
            success = (session["success_url"] or "").replace("{CHECKOUT_SESSION_ID}", session_id)
            handler.send_response(303)
            handler.send_header("Location", success)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if session["mode"] == "setup":
            what = "Save a card for future payments"
        else:
            amount = session["amount_total"]
            currency = (session["currency"] or "").upper()
            shown = amount if currency == "JPY" else f"{amount / 100:.2f}"
            what = f"Pay {shown} {currency}"
        page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Fake Stripe Checkout</title></head>
<body>
  <h1>Fake Stripe Checkout</h1>
  <p id="summary">{html.escape(what)}</p>
  <form method="post" action="/checkout/{html.escape(session_id)}/pay">
    <button type="submit" id="pay">Pay</button>
  </form>
  <p><a id="cancel" href="{html.escape(session["cancel_url"] or "/")}">Cancel</a></p>
</body></html>"""
        self._html(handler, 200, page)

    def _html(self, handler, status: int, page: str) -> None:
        payload = page.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)


@pytest.fixture(name="stripe_fake")
def stripe_fake_server(settings):
    """Stripe on a local port; the app's Stripe client and webhook secret point at it."""
    fake = FakeStripe()
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_SECRET_KEY = FakeStripe.API_KEY
    settings.STRIPE_WEBHOOK_SECRET = FakeStripe.WEBHOOK_SECRET
    yield fake
    fake.close()
