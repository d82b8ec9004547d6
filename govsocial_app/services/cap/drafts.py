"""Drafts from a raised alert: one per language, from headline, instruction, description and web, cut to fit each
network's text limit as that network counts (connectors/textcount.py), carrying the alert's expiry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import regex

from connectors import textcount
from connectors.base import Limits
from connectors.registry import NETWORKS, limits_for
from govsocial_app.services.cap.model import Alert, Info

__all__ = ["AlertDraft", "LanguageDraft", "NetworkText", "build_drafts", "compose", "fit_text"]

ELLIPSIS = "…"
RTL_LANGUAGES = {"ar", "fa", "he", "ur", "ps", "ku", "yi", "dv"}
_SENTENCE_END = regex.compile(r"(?<=[.!?؟。])\s+")
_SPACE = regex.compile(r"\s+")


@dataclass(frozen=True)
class NetworkText:
    network: str
    text: str
    length: int  # in the network's own units
    limit: int
    complete: bool  # False when something was shortened or left out to fit
    omitted: tuple[str, ...] = ()  # "description", "instruction", "web": parts left out entirely


@dataclass(frozen=True)
class LanguageDraft:
    language: str  # as the alert gave it ("en-US", "ar")
    base_language: str  # "en", "ar": what the composer keys on
    direction: str  # "ltr" or "rtl"
    headline: str
    instruction: str
    description: str
    web: str
    full_text: str  # every part, unshortened: for networks without a limit and for the approver
    per_network: Mapping[str, NetworkText]
    info_index: int


@dataclass(frozen=True)
class AlertDraft:
    sender: str
    identifier: str
    msg_type: str
    expires: datetime | None  # the earliest expiry of the drafted blocks: nothing may be scheduled after it
    languages: tuple[LanguageDraft, ...]

    def language(self, base: str) -> LanguageDraft | None:
        return next((d for d in self.languages if d.base_language == base), None)


def _clean(text: str) -> str:
    # CAP text is often hard-wrapped at 70 columns; posts should flow. Paragraph breaks survive.
    paragraphs = [p for p in regex.split(r"\n\s*\n", text or "") if p.strip()]
    return "\n\n".join(_SPACE.sub(" ", p).strip() for p in paragraphs)


def _headline(info: Info) -> str:
    return _clean(info.headline) or _clean(info.event)


def compose(headline: str, instruction: str, description: str, web: str) -> str:
    """The full post: what happened, what to do, the details, where to read more."""
    return "\n\n".join(part for part in (headline, instruction, description, web) if part)


def _fits(text: str, limits: Limits) -> bool:
    return textcount.count(text, limits) <= limits.max_chars


def fit_text(text: str, budget_text: callable, limits: Limits) -> str:
    """The longest cut of `text` (at a sentence, else a word, else a grapheme boundary, with "…") for which
    budget_text(cut) still fits `limits`; "" when not even one word fits."""
    if _fits(budget_text(text), limits):
        return text
    sentences = _SENTENCE_END.split(text)
    best = ""
    for i in range(1, len(sentences)):
        candidate = " ".join(sentences[:i])
        if _fits(budget_text(candidate), limits):
            best = candidate
        else:
            break
    if best:
        return best
    words = text.split(" ")
    low, high = 0, len(words)
    while low < high:  # the longest word prefix that fits, with the ellipsis
        mid = (low + high + 1) // 2
        if _fits(budget_text(" ".join(words[:mid]).rstrip(",;:") + ELLIPSIS), limits):
            low = mid
        else:
            high = mid - 1
    if low > 0:
        return " ".join(words[:low]).rstrip(",;:") + ELLIPSIS
    clusters = textcount.graphemes(text)
    low, high = 0, len(clusters)
    while low < high:
        mid = (low + high + 1) // 2
        if _fits(budget_text("".join(clusters[:mid]) + ELLIPSIS), limits):
            low = mid
        else:
            high = mid - 1
    return "".join(clusters[:low]) + ELLIPSIS if low else ""


def _for_network(network: str, limits: Limits, headline: str, instruction: str, description: str, web: str) -> NetworkText:
    full = compose(headline, instruction, description, web)
    if _fits(full, limits):
        return NetworkText(network, full, textcount.count(full, limits), limits.max_chars, True)
    omitted: list[str] = []
    # Keep, in order of importance: the headline, the link (the whole message is there), what to do, the details.
    link = web if web and _fits(compose(headline, "", "", web), limits) else ""
    if web and not link:
        omitted.append("web")
    head = fit_text(headline, lambda h: compose(h, "", "", link), limits)
    todo = fit_text(instruction, lambda i: compose(head, i, "", link), limits) if instruction else ""
    if instruction and not todo:
        omitted.append("instruction")
    details = fit_text(description, lambda d: compose(head, todo, d, link), limits) if description else ""
    if description and not details:
        omitted.append("description")
    text = compose(head, todo, details, link)
    return NetworkText(network, text, textcount.count(text, limits), limits.max_chars, False, tuple(omitted))


def _pick_infos(alert: Alert, indexes: Iterable[int] | None) -> list[tuple[int, Info]]:
    chosen = list(indexes) if indexes is not None else list(range(len(alert.infos)))
    by_language: dict[str, tuple[int, Info]] = {}
    for index in chosen:
        if 0 <= index < len(alert.infos):
            info = alert.infos[index]
            by_language.setdefault(info.language.lower(), (index, info))  # the first block per language
    return list(by_language.values())


def build_drafts(
    alert: Alert,
    *,
    info_indexes: Iterable[int] | None = None,
    networks: Mapping[str, Limits] | Iterable[str] | None = None,
) -> AlertDraft:
    """A draft per language of the alert (of the info blocks in `info_indexes`, as Decision.info_indexes gives).
    `networks` maps network name to Limits (a connected Mastodon server's own, say) or lists names whose default
    limits apply; by default every network in the registry."""
    if networks is None:
        limits_by_network = {name: limits_for(name) for name in NETWORKS}
    elif isinstance(networks, Mapping):
        limits_by_network = dict(networks)
    else:
        limits_by_network = {name: limits_for(name) for name in networks}
    drafts = []
    for index, info in _pick_infos(alert, info_indexes):
        headline, instruction = _headline(info), _clean(info.instruction)
        description, web = _clean(info.description), info.web.strip()
        per_network = {
            name: _for_network(name, limits, headline, instruction, description, web)
            for name, limits in limits_by_network.items()
        }
        base = info.base_language
        drafts.append(LanguageDraft(
            language=info.language, base_language=base, direction="rtl" if base in RTL_LANGUAGES else "ltr",
            headline=headline, instruction=instruction, description=description, web=web,
            full_text=compose(headline, instruction, description, web), per_network=per_network, info_index=index,
        ))
    expiries = [alert.infos[d.info_index].expires for d in drafts if alert.infos[d.info_index].expires is not None]
    return AlertDraft(alert.sender, alert.identifier, alert.msg_type, min(expiries) if expiries else None, tuple(drafts))
