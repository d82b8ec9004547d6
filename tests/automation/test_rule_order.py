"""The inbox rules' word prefilter (rules._Order): a message meets, in position order, every rule whose query needs
a word it has, every rule without such words, and no other; from a given rule on when it resumes."""

from __future__ import annotations

import random
from types import SimpleNamespace

from govsocial_app.services.intake import rules


def _naive(words_per_rule, message_words, start):
    return [i for i, w in enumerate(words_per_rule) if i >= start and (w is None or w & message_words)]


def test_the_prefilter_gives_exactly_the_rules_a_message_can_match_in_order():
    rng = random.Random(17)
    vocabulary = [f"w{i}" for i in range(40)] + ["حفرة", "#flood", "@city"]
    for trial in range(300):
        count = rng.choice([1, 2, 5, 50, 70])  # past 64 rules the masks outgrow one machine word
        words_per_rule = [None if rng.random() < 0.15 else frozenset(rng.sample(vocabulary, rng.randint(1, 4)))
                          for _ in range(count)]
        order = rules._Order([SimpleNamespace(words=w) for w in words_per_rule])
        text, author = frozenset(rng.sample(vocabulary, rng.randint(0, 8))), frozenset(rng.sample(vocabulary, rng.randint(0, 2)))
        message = SimpleNamespace(id=-1)
        facts = rules._Facts(analysed={-1: SimpleNamespace(text=SimpleNamespace(forms=text), author=author)})
        start = rng.randint(0, count)
        # Only an `@handle` term reads the author (keyword_query.Mention): the author's other forms wake no rule.
        mentions = frozenset(w for w in author if w.startswith("@"))
        assert order.of(message, facts, start) == _naive(words_per_rule, text | mentions, start), (trial, start)


def test_rules_without_words_everywhere_means_every_rule_from_the_start():
    order = rules._Order([SimpleNamespace(words=None) for _ in range(3)])
    assert order.of(SimpleNamespace(id=-1), rules._Facts(), 1) == [1, 2]
