"""The offline analyser produces real content: a faithful summary, key phrases, sentiment."""

from __future__ import annotations

from credits_app.services.ai.providers import textkit
from credits_app.services.ai.providers.local import LocalProvider, analyse

REVIEW = (
    "We moved our whole support team to the new ticketing system in March. "
    "The ticketing system is fast, reliable and the search is excellent. "
    "Agents love the keyboard shortcuts and the shared inbox. "
    "Reporting is still weak: the export to spreadsheets is broken and the charts are confusing. "
    "Pricing went up twice this year, which is frustrating. "
    "Overall the ticketing system saves our support team hours every week."
)

COMPLAINT = (
    "The update is terrible. The app crashes every time I open it and support never answered. "
    "I am very disappointed and want a refund."
)


def test_the_summary_is_taken_from_the_text_and_covers_its_main_topic():
    summary = textkit.summarise(REVIEW)

    assert 1 <= len(summary) <= 3
    assert all(sentence in REVIEW for sentence in summary)
    assert any("ticketing system" in sentence for sentence in summary)


def test_key_phrases_name_what_the_text_is_about():
    phrases = textkit.key_phrases(REVIEW)

    assert "ticketing system" in " | ".join(phrases)
    assert "support team" in " | ".join(phrases)
    assert not {"the", "and", "is"} & set(phrases)


def test_sentiment_tells_praise_from_complaints_and_handles_negation():
    assert textkit.sentiment(REVIEW).label == "positive"
    complaint = textkit.sentiment(COMPLAINT)
    assert complaint.label == "negative" and complaint.score < -0.5
    assert {"terrible", "disappointed"} <= set(complaint.negative)
    assert textkit.sentiment("The service was not good.").label == "negative"
    assert textkit.sentiment("It was not bad at all.").label == "positive"
    assert textkit.sentiment("The meeting is on Tuesday.").label == "neutral"


def test_the_report_has_every_section_with_real_values():
    report = analyse(COMPLAINT)

    assert report.startswith("Summary:\n- ")
    assert "Key phrases: " in report and "app crashes" in report
    assert "Sentiment: negative (-" in report
    assert "Stats: 24 words, 3 sentence(s)" in report


def test_the_provider_streams_the_report_in_chunks_and_respects_the_word_cap():
    provider = LocalProvider(chunk_delay=0, words_per_chunk=2)

    pieces = list(provider.stream(REVIEW, max_words=400))
    capped = list(provider.stream(REVIEW, max_words=10))

    assert len(pieces) > 10
    assert "".join(pieces) == analyse(REVIEW)
    assert len("".join(capped).split()) == 10
