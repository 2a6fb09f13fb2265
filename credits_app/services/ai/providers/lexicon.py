"""Word lists for the offline analyser: English stop words and a small sentiment lexicon.

Valences run from -3 (very negative) to +3 (very positive), in the spirit of AFINN; the list
is hand-written for this project and deliberately small (common review and support words).
"""

from __future__ import annotations


def _split(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP_WORDS = _split(
    """a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did didn't do
    does doesn't doing don't down during each else etc even ever every few for from further
    get gets got had hadn't has hasn't have haven't having he he'd he'll he's her here here's
    hers herself him himself his how how's however i i'd i'll i'm i've if in into is isn't it
    it's its itself just let's like may me might more most much must mustn't my myself no nor
    not now of off on once one only or other ought our ours ourselves out over own per quite
    rather really same shall shan't she she'd she'll she's should shouldn't since so some such
    than that that's the their theirs them themselves then there there's these they they'd
    they'll they're they've this those though through thus to too under until up upon us use
    used using very via was wasn't we we'd we'll we're we've well were weren't what what's when
    when's where where's whether which while who who's whom why why's will with within without
    won't would wouldn't yet you you'd you'll you're you've your yours yourself yourselves
    """
)

NEGATIONS = _split(
    "not no never none nobody nothing neither nor without hardly barely isn't aren't wasn't "
    "weren't don't doesn't didn't can't cannot couldn't won't wouldn't shouldn't"
)

INTENSIFIERS = {
    "very": 1.5,
    "really": 1.4,
    "extremely": 1.8,
    "incredibly": 1.7,
    "so": 1.3,
    "super": 1.5,
    "totally": 1.4,
    "quite": 1.2,
    "slightly": 0.6,
    "somewhat": 0.7,
    "fairly": 0.8,
}

_POSITIVE = {
    3: "amazing awesome brilliant excellent exceptional fantastic flawless incredible "
    "outstanding perfect superb wonderful love loved loving masterpiece delightful",
    2: "beautiful best delighted enjoy enjoyed enjoyable glad great happy impressive "
    "impressed lovely pleased pleasant recommend recommended reliable satisfied smooth "
    "success successful thank thanks thrilled win wins winning elegant efficient fast "
    "friendly helpful intuitive powerful robust secure stable",
    1: "good nice fine fair okay ok like liked likes better clean clear easy fun improve "
    "improved improvement interesting solid useful worth works working correct accurate "
    "affordable calm comfortable convenient safe simple support supported benefit benefits "
    "gain gains growth progress positive resolved fixed improving quickly",
}

_NEGATIVE = {
    3: "awful disaster disgusting dreadful horrible horrendous terrible worst hate hated "
    "hateful catastrophic unacceptable abysmal atrocious",
    2: "angry annoyed annoying bad broken crash crashed crashes disappointed disappointing "
    "fail failed failing failure fraud frustrated frustrating poor scam sad slow useless "
    "worse wrong unreliable unstable insecure painful ugly lost loss losses refund",
    1: "bug bugs buggy complicated concern concerns confusing costly difficult error errors "
    "expensive hard issue issues lack lacking mediocre messy missing problem problems "
    "risk risky unclear unfortunately weak worry worried delay delayed negative decline "
    "declined",
}


def _build() -> dict[str, int]:
    valences: dict[str, int] = {}
    for weight, words in _POSITIVE.items():
        valences.update(dict.fromkeys(words.split(), weight))
    for weight, words in _NEGATIVE.items():
        valences.update(dict.fromkeys(words.split(), -weight))
    return valences


VALENCE: dict[str, int] = _build()
