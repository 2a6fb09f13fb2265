"""The user's whole ledger as CSV, newest first: streamed page by page, in constant memory.

The dashboard downloads it from `GET /api/me/ledger.csv?ticket=...` with an export ticket
(`export_ticket`): good for one download within a minute, and for nothing else.

The last column, `lots`, names the lots each entry moved and by how much, in lot id order:
`12:-30;13:-5` (a spend drew 30 from lot 12 and 5 from lot 13), `14:500` (a grant created
lot 14), empty when the entry moved no lot (a capture that kept the whole hold).
"""

from __future__ import annotations

import csv
import io
import time
import uuid
from collections.abc import Callable, Iterable, Iterator

import jwt
from sqlmodel import Session

from credits_app.db import read_session
from credits_app.services.accounts import require_user
from credits_app.services.errors import Unauthorized
from credits_app.services.history import MAX_PAGE, EntryView, LotMove, ledger_history
from credits_app.services.ledger_labels import describe
from credits_app.services.ratelimit import limiter_for
from credits_app.settings import get_settings

COLUMNS = (
    "id",
    "created_at",
    "kind",
    "description",
    "delta",
    "balance_after",
    "feature",
    "reason",
    "source",
    "lots",
)
TICKET_AUDIENCE = "ledger-export"
TICKET_TTL_SECONDS = 60
FetchPage = Callable[[int | None], list[EntryView]]


def _safe(value: object) -> object:
    """Stop spreadsheet formula injection: text starting with = + - @ is prefixed with '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv_text(rows: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def lots_cell(moves: tuple[LotMove, ...]) -> str:
    """The `lots` column: `lot:credits` pairs joined by `;`, e.g. `12:-30;13:-5`."""
    return ";".join(f"{lot}:{credits}" for lot, credits in moves)


def _row(e: EntryView) -> list[object]:
    row = (e.id, e.created_at.isoformat(), e.kind, describe(e), e.delta, e.balance_after)
    return [*row, *map(_safe, (e.feature or "", e.reason or "", e.source)), lots_cell(e.lots)]


def _chunks(fetch_page: FetchPage, page_size: int) -> Iterator[str]:
    """Yield the header, then one CSV chunk per page; keyset pagination by id."""
    yield _csv_text([COLUMNS])
    before: int | None = None
    while True:
        page = fetch_page(before)
        if page:
            yield _csv_text(_row(e) for e in page)
        if len(page) < page_size:
            return
        before = page[-1].id


def ledger_csv(*, session: Session, user_id: int) -> str:
    """Return every ledger entry of the user as CSV text with a header row.

    For small ledgers and scripts; the download streams with `stream_ledger_csv` instead.

    Raises:
        UserNotFound: When the user does not exist.
    """

    def fetch(before: int | None) -> list[EntryView]:
        return ledger_history(
            session=session, user_id=user_id, limit=MAX_PAGE, before_id=before, with_lots=True
        )

    return "".join(_chunks(fetch, MAX_PAGE))


def stream_ledger_csv(*, user_id: int, page_size: int | None = None) -> Iterator[str]:
    """Return an iterator over the user's ledger as CSV: the header, then one chunk per page.

    Memory stays at one page (`MAX_PAGE` entries) however long the ledger is. Each page is
    read in its own short read-only session, so a slow download holds no connection or
    transaction between pages. The text is exactly what `ledger_csv` returns.

    Raises:
        UserNotFound: When the user does not exist (checked before anything is streamed).
    """
    size = page_size or MAX_PAGE
    with read_session() as session:
        require_user(session, user_id)

    def fetch(before: int | None) -> list[EntryView]:
        with read_session() as session:
            return ledger_history(
                session=session, user_id=user_id, limit=size, before_id=before, with_lots=True
            )

    return _chunks(fetch, size)


def export_ticket(user_id: int) -> str:
    """Mint a ticket that lets its bearer download this user's ledger once, within 60 s.

    It is signed like access tokens but for another audience and without a feature, so it
    is refused everywhere else, and access tokens are refused by the export.
    """
    now = int(time.time())
    claims = {
        "iss": "credits",
        "aud": TICKET_AUDIENCE,
        "sub": str(user_id),
        "iat": now,
        "exp": now + TICKET_TTL_SECONDS,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, get_settings().access_token_secret, algorithm="HS256")


def ticket_user(ticket: str) -> int:
    """Return the user id an export ticket was minted for, and use the ticket up.

    The ticket travels in the download's URL, so it may end up in an access log: a second
    use is refused (claimed in Redis when REDIS_URL is set, else in this process).

    Raises:
        Unauthorized: When the ticket is missing, forged, expired, used, or not an export
            ticket.
    """
    settings = get_settings()
    try:
        claims = jwt.decode(
            ticket,
            settings.access_token_secret,
            algorithms=["HS256"],
            audience=TICKET_AUDIENCE,
            issuer="credits",
            options={"require": ["exp", "sub", "aud", "iss", "jti"]},
        )
    except jwt.PyJWTError:
        raise Unauthorized("invalid or expired export ticket; export again") from None
    subject = claims["sub"]
    if not (isinstance(subject, str) and subject.isdigit()) or "feature" in claims:
        raise Unauthorized("invalid export ticket")
    if not limiter_for(settings.redis_url).claim(f"export:{claims['jti']}", TICKET_TTL_SECONDS):
        raise Unauthorized("this export ticket was used already; export again")
    return int(subject)
