"""The metered AI flow end to end: reserve, stream, capture the real cost or release it all."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import select

from credits_app.models import CreditHold, UsageEvent
from credits_app.services.accounts import balance_of
from credits_app.services.ai import (
    EXAMPLE_FEATURE,
    AiRunFailed,
    LocalProvider,
    OpenAICompatibleProvider,
    actual_cost,
    count_words,
    estimate_cost,
    get_provider,
    run_example,
    stream_example,
)
from credits_app.services.errors import IdempotencyConflict, InsufficientCredits, InvalidRequest
from credits_app.services.invariants import check_ledger
from credits_app.settings import get_settings
from tests.support.openai_server import ANSWER

PROMPT = (
    "Our team loves the new dashboard. It is fast and reliable. "
    "The export button is broken, which is frustrating. Please fix the export soon."
)


def _openai(fake, model: str, timeout: float = 5.0) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(
        base_url=fake.base_url, model=model, api_key="sk-test-123", timeout=timeout, backoff=0.05
    )


def _events(user_id, provider, key="k1", prompt=PROMPT):
    return list(
        stream_example(user_id=user_id, prompt=prompt, idempotency_key=key, provider=provider)
    )


def _balance(session, user_id):
    try:
        return balance_of(session=session, user_id=user_id)
    finally:
        session.rollback()  # never keep SQLite's write lock while the flow runs


def _status(session, hold_id):
    try:
        return session.get(CreditHold, hold_id).status
    finally:
        session.rollback()


def _requests(fake, model):
    return sum(1 for r in fake.requests if r["model"] == model)


def test_local_provider_streams_and_charges_the_real_cost(funded_user, app_session):
    events = _events(funded_user.id, LocalProvider(chunk_delay=0))

    kinds = [e.kind for e in events]
    assert kinds[0] == "reserved" and kinds[-1] == "finished"
    assert kinds.count("chunk") >= 5
    reserved, finished = events[0], events[-1]
    result = "".join(e.text for e in events if e.kind == "chunk")
    assert finished.result == result and "Summary:" in result
    assert reserved.amount == estimate_cost(PROMPT)
    assert finished.cost == actual_cost(PROMPT, result) <= reserved.amount
    assert (finished.balance, finished.available) == (100 - finished.cost, 100 - finished.cost)
    usage = app_session.exec(select(UsageEvent).where(UsageEvent.feature == EXAMPLE_FEATURE)).one()
    assert usage.credits == finished.cost
    assert check_ledger(session=app_session) == []
    app_session.rollback()


def test_openai_provider_streams_deltas(funded_user, app_session, fake_openai):
    events = _events(funded_user.id, _openai(fake_openai, "ok"), key="stream")

    chunks = [e.text for e in events if e.kind == "chunk"]
    assert len(chunks) == len(ANSWER.split())
    assert "".join(chunks).strip() == ANSWER
    finished = events[-1]
    assert finished.kind == "finished"
    assert finished.cost == actual_cost(PROMPT, "".join(chunks))
    sent = [r for r in fake_openai.requests if r["model"] == "ok"][-1]
    assert sent["stream"] is True and sent["messages"][-1]["content"] == PROMPT
    assert sent["headers"]["Authorization"] == "Bearer sk-test-123"
    assert _balance(app_session, funded_user.id).balance == 100 - finished.cost


def test_openai_provider_accepts_a_plain_json_answer(funded_user, fake_openai):
    result = run_example(
        user_id=funded_user.id,
        prompt=PROMPT,
        idempotency_key="json",
        provider=_openai(fake_openai, "json"),
    )

    assert result.result == ANSWER
    assert result.cost <= result.estimate


def test_a_500_from_the_provider_costs_nothing(funded_user, app_session, fake_openai):
    before = len(fake_openai.requests)

    events = _events(funded_user.id, _openai(fake_openai, "fail500"), key="boom")

    assert [e.kind for e in events] == ["reserved", "failed"]
    assert events[-1].code == "provider_error" and "500" in events[-1].message
    assert (events[-1].balance, events[-1].available) == (100, 100)
    assert len(fake_openai.requests) - before == 3  # the first try and two retries
    assert _status(app_session, events[0].hold_id) == "released"
    assert _balance(app_session, funded_user.id).balance == 100
    assert check_ledger(session=app_session) == []


def test_a_stream_that_breaks_after_output_charges_the_output_delivered(
    funded_user, app_session, fake_openai
):
    events = _events(funded_user.id, _openai(fake_openai, "garbage"), key="garbage")

    cost = actual_cost(PROMPT, "ok ")
    assert [e.kind for e in events] == ["reserved", "chunk", "failed"]
    assert _balance(app_session, funded_user.id).balance == 100 - cost
    failed = events[-1]
    assert (failed.code, failed.charged, failed.result) == ("provider_error", cost, "ok ")
    assert _status(app_session, events[0].hold_id) == "captured"
    assert check_ledger(session=app_session) == []


def test_a_failure_before_any_output_is_retried(funded_user, fake_openai):
    # The server fails the first "flaky" request it sees; forget earlier tests' requests.
    fake_openai.requests[:] = [r for r in fake_openai.requests if r["model"] != "flaky"]

    result = run_example(
        user_id=funded_user.id,
        prompt=PROMPT,
        idempotency_key="flaky",
        provider=_openai(fake_openai, "flaky"),
    )

    assert result.result.strip() == ANSWER
    assert _requests(fake_openai, "flaky") == 2


def test_a_timeout_costs_nothing(funded_user, app_session, fake_openai):
    with pytest.raises(AiRunFailed) as caught:
        run_example(
            user_id=funded_user.id,
            prompt=PROMPT,
            idempotency_key="slow",
            provider=_openai(fake_openai, "slow", timeout=0.5),
        )

    assert (caught.value.code, caught.value.http_status) == ("provider_timeout", 504)
    assert _balance(app_session, funded_user.id).available == 100
    assert check_ledger(session=app_session) == []


def test_a_stream_that_stalls_after_output_is_not_retried_and_charges_the_output(
    funded_user, app_session, fake_openai
):
    before = _requests(fake_openai, "stall")

    events = _events(funded_user.id, _openai(fake_openai, "stall", timeout=0.5), key="stall")

    cost = actual_cost(PROMPT, "Partial ")
    assert [e.kind for e in events] == ["reserved", "chunk", "failed"]
    assert (events[-1].code, events[-1].charged) == ("provider_timeout", cost)
    assert _requests(fake_openai, "stall") - before == 1
    assert _balance(app_session, funded_user.id).balance == 100 - cost
    assert check_ledger(session=app_session) == []


def test_output_is_cut_at_the_priced_maximum(funded_user, fake_openai):
    result = run_example(
        user_id=funded_user.id,
        prompt=PROMPT,
        idempotency_key="long",
        provider=_openai(fake_openai, "long"),
    )

    assert count_words(result.result) == 300
    assert result.cost == result.estimate


def test_the_same_key_twice_charges_once_and_replays(funded_user, app_session):
    first = run_example(
        user_id=funded_user.id,
        prompt=PROMPT,
        idempotency_key="twice",
        provider=LocalProvider(chunk_delay=0),
    )
    again = run_example(
        user_id=funded_user.id,
        prompt=PROMPT,
        idempotency_key="twice",
        provider=LocalProvider(chunk_delay=0),
    )

    assert (again.replayed, again.result, again.cost) == (True, first.result, first.cost)
    assert _balance(app_session, funded_user.id).balance == 100 - first.cost
    assert len(app_session.exec(select(UsageEvent)).all()) == 1


def test_the_same_key_with_another_prompt_is_a_conflict_not_a_replay(funded_user, app_session):
    other = "The support team never answered. Terrible and slow service, very disappointing."
    assert estimate_cost(other) == estimate_cost(PROMPT)  # only the prompt differs
    first = run_example(
        user_id=funded_user.id,
        prompt=PROMPT,
        idempotency_key="reused",
        provider=LocalProvider(chunk_delay=0),
    )

    with pytest.raises(IdempotencyConflict) as conflict:
        run_example(user_id=funded_user.id, prompt=other, idempotency_key="reused")

    assert conflict.value.details()["fields"] == ["prompt"]
    assert _balance(app_session, funded_user.id).balance == 100 - first.cost
    assert len(app_session.exec(select(CreditHold)).all()) == 1


def test_a_failed_key_is_not_rerun(funded_user, fake_openai):
    _events(funded_user.id, _openai(fake_openai, "fail500"), key="dead")

    events = _events(funded_user.id, LocalProvider(chunk_delay=0), key="dead")

    assert [e.kind for e in events] == ["failed"]
    assert events[0].code == "already_failed"


def test_request_errors_are_raised_before_anything_is_reserved(funded_user, app_session):
    with pytest.raises(InvalidRequest):
        _events(funded_user.id, LocalProvider(chunk_delay=0), prompt="   ")
    with pytest.raises(InsufficientCredits):
        _events(funded_user.id, LocalProvider(chunk_delay=0), prompt="a " * 9000)
    _events(funded_user.id, LocalProvider(chunk_delay=0), key="same")
    with pytest.raises(IdempotencyConflict):
        _events(funded_user.id, LocalProvider(chunk_delay=0), key="same", prompt="word " * 1000)
    assert len(app_session.exec(select(CreditHold)).all()) == 1


def test_settings_pick_the_provider(app_settings, monkeypatch, fake_openai):
    assert isinstance(get_provider(), LocalProvider)
    monkeypatch.setenv("AI_PROVIDER", "openai")
    monkeypatch.setenv("AI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("AI_MODEL", "ok")
    get_settings.cache_clear()

    provider = get_provider()

    assert isinstance(provider, OpenAICompatibleProvider)
    assert "".join(provider.stream("hi", max_words=50)).strip() == ANSWER
    get_settings.cache_clear()


def test_a_key_of_the_longest_allowed_length_works(funded_user):
    long_key = "k" * 255

    first = run_example(user_id=funded_user.id, prompt=PROMPT, idempotency_key=long_key)
    again = run_example(user_id=funded_user.id, prompt=PROMPT, idempotency_key=long_key)

    assert first.cost >= 1 and again.replayed


def test_a_double_click_runs_once_and_both_get_the_result(funded_user, app_session):
    def click(_: int):
        return run_example(
            user_id=funded_user.id,
            prompt=PROMPT,
            idempotency_key="double",
            provider=LocalProvider(chunk_delay=0.01),
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(click, range(2))

    assert "Summary" in first.result
    assert first.result == second.result and first.cost == second.cost
    assert sorted([first.replayed, second.replayed]) == [False, True]
    assert _balance(app_session, funded_user.id).balance == 100 - first.cost
