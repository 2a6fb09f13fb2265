"""One run's delivered output, and the events that stream it: however it ends, it is paid."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime

from credits_app.models import utcnow
from credits_app.services.ai.charge import Charge, charge_run
from credits_app.services.ai.events import AiEvent, Chunk, Failed, Finished, Reserved
from credits_app.services.ai.output import output_pieces
from credits_app.services.ai.pricing import EXAMPLE_FEATURE, PRICES, actual_cost
from credits_app.services.ai.providers import Provider
from credits_app.services.holds import HoldResult

# How a run ended, as stored on its hold (`outcome`) for replays; failures add their codes.
FINISHED, DISCONNECTED, HOLD_EXPIRED = "finished", "disconnected", "hold_expired"
LAPSING = "the run stopped because its reservation was about to expire (the reader stalled)"
LAPSED = "the run's reservation expired before it was charged (the reader stalled)"

RunEvents = Generator[AiEvent, None, None]


class Undelivered(Exception):
    """Thrown into a run by a consumer that could not pass on the event it received last."""


@dataclass
class DeliveredRun:
    """One run's hold and the output delivered so far; settled exactly once.

    `stop_at` is when output must stop so that the hold can still be captured.
    """

    user_id: int
    prompt: str
    key: str
    hold: HoldResult
    stop_at: datetime
    delivered: list[str] = field(default_factory=list)
    charge: Charge | None = None

    @property
    def text(self) -> str:
        """The output delivered so far."""
        return "".join(self.delivered)

    def lapsing(self) -> bool:
        """Whether the hold is (about to be) expired, so output could no longer be captured."""
        return utcnow() >= self.stop_at

    def settle(self, outcome: str) -> Charge:
        """Charge the delivered output (a finished run always pays for its prompt)."""
        if self.charge is None:
            cost = actual_cost(self.prompt, self.text)
            if not self.delivered and outcome != FINISHED:
                cost = 0  # nothing delivered: release
            self.charge = charge_run(
                user_id=self.user_id,
                hold=self.hold,
                key=self.key,
                cost=cost,
                result=self.text,
                outcome=outcome,
            )
        return self.charge

    def failed(self, code: str, message: str) -> Failed:
        """Settle a run that stopped early (`code` says why) and describe it."""
        charge = self.settle(code)
        return Failed(
            message,
            code,
            charge.balance,
            charge.available,
            charged=charge.charged,
            unpaid=charge.unpaid,
            result=self.text,
        )

    def finished(self) -> Finished | Failed:
        """Settle a run whose provider finished (failed if its lapsed hold left some unpaid)."""
        charge = self.settle(FINISHED)
        if charge.unpaid:
            return self.failed(HOLD_EXPIRED, LAPSED)
        return Finished(
            cost=charge.charged,
            estimate=self.hold.reserved,
            balance=charge.balance,
            available=charge.available,
            result=self.text,
            hold_id=self.hold.hold_id,
        )


def stream_run(run: DeliveredRun, provider: Provider) -> RunEvents:
    """Yield the run's events; however it ends, it is settled for what it delivered."""
    pieces = None
    try:
        hold = run.hold
        yield Reserved(hold.reserved, hold.hold_id, hold.balance, hold.available)
        pieces = output_pieces(provider, run.prompt, PRICES[EXAMPLE_FEATURE].max_output_words)
        for piece in pieces:
            if not isinstance(piece, str):
                yield run.failed(piece.code, str(piece))
                return
            if run.lapsing():
                yield run.failed(HOLD_EXPIRED, LAPSING)
                return
            run.delivered.append(piece)  # yielded = delivered, so charged from here on
            try:
                yield Chunk(piece)
            except Undelivered:
                run.delivered.pop()
                raise
        yield run.finished()
    finally:
        if pieces is not None:
            pieces.close()  # let the provider hang up now
        # Closed, dropped or told the last chunk never arrived: the consumer went away.
        run.settle(DISCONNECTED)
