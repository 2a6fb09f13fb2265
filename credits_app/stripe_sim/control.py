"""A small client for the `/_sim/*` helpers, for tests and scripts driving a simulator."""

from __future__ import annotations

import os
from typing import Any

import httpx

Obj = dict[str, Any]
TOKEN_ENV = "STRIPE_SIM_CONTROL_TOKEN"  # noqa: S105 (a variable's name, not a secret)
# Control tokens of the simulators this process started (`testing.start_in_thread`), by URL.
_started_tokens: dict[str, str] = {}


def remember_token(url: str, token: str) -> None:
    """Let `SimControl(url)` find the token of a simulator this process started."""
    _started_tokens[url.rstrip("/")] = token


def forget_token(url: str) -> None:
    """Drop the token remembered for `url` (its simulator stopped)."""
    _started_tokens.pop(url.rstrip("/"), None)


def token_for(url: str) -> str:
    """The control token for the simulator at `url`.

    That of a simulator this process started, else the `STRIPE_SIM_CONTROL_TOKEN`
    environment variable (e.g. copied from `make run`'s output).
    """
    return _started_tokens.get(url.rstrip("/")) or os.environ.get(TOKEN_ENV, "")


class SimControlError(RuntimeError):
    """Raised when a helper call fails; `body` is the Stripe-shaped error answer."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"simulator answered {status}: {body}")
        self.status = status
        self.body = body


class SimControl:
    """Calls the simulator's test helpers over HTTP.

    Args:
        url: The simulator's base address, e.g. `RunningSimulator.url`.
        timeout: Seconds allowed per call (waiting for deliveries adds its own timeout).
        token: The control token; by default `token_for(url)`, so a simulator started by
            `start_in_thread` needs nothing, and another one reads `STRIPE_SIM_CONTROL_TOKEN`.
    """

    def __init__(self, url: str, timeout: float = 10.0, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        token = token_for(self.url) if token is None else token
        headers = {"X-Sim-Token": token} if token else {}
        self._http = httpx.Client(base_url=self.url, timeout=timeout, headers=headers)

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._http.close()

    def call(self, method: str, path: str, body: Obj | None = None, timeout: float | None = None):
        """Send one helper request and return the decoded JSON answer.

        `body` is sent as JSON, or for `GET` as query filters (e.g. `{"event": "evt_..."}`).
        """
        extra: Obj = {"timeout": timeout} if timeout is not None else {}
        if method.upper() == "GET":
            extra["params"] = body
        else:
            # Helpers that change something take a JSON body only, an empty object included.
            extra["json"] = body if body is not None else {}
        response = self._http.request(method, path, **extra)
        if response.status_code >= 400:
            raise SimControlError(response.status_code, response.json())
        return response.json()

    def reset(self) -> Obj:
        """Forget everything and reseed the demo catalogue."""
        return self.call("POST", "/_sim/reset")

    def configure(self, **settings: Any) -> Obj:
        """Change settings (see `POST /_sim/config`); unknown values answer 400.

        Settings: `forward_to`, `webhook_secret`, `retry_delays`, `delivery_workers`,
        `async_settle_seconds`, `api_version` (events' version), `portal_proration_behavior`.
        """
        return self.call("POST", "/_sim/config", settings)

    def pay(self, session_id: str, card: str = "4242424242424242", delayed: bool = False) -> Obj:
        """Pay a checkout session as the customer would; returns the session."""
        body = {"card": card, "delayed": delayed}
        return self.call("POST", f"/_sim/checkout/sessions/{session_id}/pay", body)

    def settle(self, session_id: str, outcome: str | None = None) -> Obj:
        """Finish a delayed payment (`succeeded`, `failed`, or as the card decides)."""
        body = {"outcome": outcome} if outcome else {}
        return self.call("POST", f"/_sim/checkout/sessions/{session_id}/settle", body)

    def advance(self, seconds: int) -> Obj:
        """Move the test clock forward; returns what renewed, canceled or expired."""
        return self.call("POST", "/_sim/test_clock/advance", {"seconds": seconds})

    def advance_to(self, timestamp: int) -> Obj:
        """Move the test clock to a unix time."""
        return self.call("POST", "/_sim/test_clock/advance", {"to": timestamp})

    def set_card(self, customer_id: str, card: str) -> Obj:
        """Choose the card a customer's renewals are charged to."""
        return self.call("POST", f"/_sim/customers/{customer_id}/card", {"card": card})

    def dispute(
        self,
        charge_id: str,
        amount: int | None = None,
        inquiry: bool = False,
        prevented: bool = False,
    ) -> Obj:
        """Dispute a charge (or a payment intent's charge); returns the dispute.

        A chargeback by default; with `inquiry` no money moves until `escalate`; with
        `prevented` (Visa RDR) it is settled by a refund of `amount`.
        """
        body: Obj = {"inquiry": inquiry, "prevented": prevented}
        if amount is not None:
            body["amount"] = amount
        return self.call("POST", f"/_sim/charges/{charge_id}/dispute", body)

    def escalate(self, dispute_id: str) -> Obj:
        """Turn an inquiry into a chargeback (the same dispute, funds withdrawn)."""
        return self.call("POST", f"/_sim/disputes/{dispute_id}/escalate")

    def close_dispute(self, dispute_id: str, status: str) -> Obj:
        """Close a dispute as `won` or `lost` (an inquiry closes as `warning_closed`)."""
        return self.call("POST", f"/_sim/disputes/{dispute_id}/close", {"status": status})

    def fail_refund(self, refund_id: str) -> Obj:
        """Make a pending or succeeded refund fail now; returns the refund."""
        return self.call("POST", f"/_sim/refunds/{refund_id}/fail")

    def succeed_refund(self, refund_id: str) -> Obj:
        """Make a pending refund succeed now; returns the refund."""
        return self.call("POST", f"/_sim/refunds/{refund_id}/succeed")

    def requests(self, path_prefix: str | None = None) -> list[Obj]:
        """Every `/v1` request received (under `path_prefix`), oldest first.

        Each has `id`, `method`, `path`, `params` (decoded), `stripe_version`,
        `idempotency_key`, `status` and `time` (the simulated clock).
        """
        query = {"path_prefix": path_prefix} if path_prefix else None
        response = self._http.get("/_sim/requests", params=query)
        if response.status_code >= 400:
            raise SimControlError(response.status_code, response.json())
        return response.json()["data"]

    def resend(self, event_id: str) -> Obj:
        """Deliver an event again."""
        return self.call("POST", f"/_sim/events/{event_id}/resend")

    def deliveries(self, event_id: str | None = None) -> list[Obj]:
        """Every delivery (of one event, if given) with its attempts."""
        query = f"?event={event_id}" if event_id else ""
        return self.call("GET", f"/_sim/deliveries{query}")["data"]

    def wait_for_deliveries(self, timeout: float = 10.0, event_id: str | None = None) -> Obj:
        """Block until deliveries (of one event, if given) settle; raise after `timeout`."""
        body: Obj = {"timeout": timeout, **({"event": event_id} if event_id else {})}
        status = self.call("POST", "/_sim/deliveries/wait", body, timeout + 5)
        if not status["drained"]:
            raise SimControlError(408, status)
        return status
