"""The simulated network's message generator: a pure function of (profile key, minute) to who says what, when."""

from __future__ import annotations

import hashlib
import math
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache

from connectors.simulator import corpus

MINUTE_US = 60_000_000
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US

# Everything a root message spawns (thread follow-ups, then their edits or deletion) happens within
# this many minutes of it, so a window of events needs roots from this far back and no further.
MAX_CHILD_DELAY_US = 90 * MINUTE_US
MAX_FATE_DELAY_US = 60 * MINUTE_US
LOOKBACK_MINUTES = (MAX_CHILD_DELAY_US + MAX_FATE_DELAY_US) // MINUTE_US + 2
# Replies to our own posts trail them by up to this long (plus their own edits).
MAX_REPLY_DELAY_US = 240 * MINUTE_US
POST_LOOKBACK_US = MAX_REPLY_DELAY_US + MAX_FATE_DELAY_US + MINUTE_US

# Event versions, in the order they happen to one message.
CREATED, EDITED, DELETED = 0, 1, 2

STREAM_MENTIONS = "m"  # addressed to the profile: mentions, DMs, replies, thread comments
STREAM_PUBLIC = "p"  # general public chatter about the city, only reachable through search

# Mentions per hour of local time on an ordinary weekday: quiet at night, a lunchtime and an evening peak.
DAY_CURVE = (
    2.0, 1.2, 0.8, 0.6, 0.6, 1.0, 2.5, 5.0, 8.0, 10.0, 11.0, 12.0,  # 00:00-11:00
    13.0, 12.0, 11.0, 10.0, 10.0, 11.0, 13.0, 14.0, 13.0, 10.0, 7.0, 4.0,  # 12:00-23:00
)
DAY_MEAN = sum(DAY_CURVE) / len(DAY_CURVE)
PUBLIC_FACTOR = 2.0  # the public stream is wider than what is addressed to us
ARABIC_SHARE = 0.2

FLOOD_PEAK = 20.0  # volume multiplier at the height of the flood
FLOOD_RAMP_MIN = 6.5  # e-folding time: 95 % of the peak about 20 scenario minutes after the start
FLOOD_PEAK_END_MIN = 8 * 60
FLOOD_DECAY_END_MIN = 48 * 60

_SPACES = re.compile(r"[ ]{2,}")
_FLOOD_WORDS = re.compile(r"(?i)flood|evacuat|shelter|sandbag|dam\b|rest centre|فيضان|سيول|إخلاء|إيواء|السد")


def stable_int(*parts: object) -> int:
    """A 64-bit integer from the parts, the same in every process (unlike hash())."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def namespace(profile_key: str) -> str:
    """The id prefix that keeps one profile's simulated messages apart from another's."""
    return f"{stable_int('ns', profile_key):016x}"[:8]


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_us(dt: datetime) -> int:
    """Microseconds since the epoch; naive datetimes are taken as UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:  # normal approximation keeps flood peaks cheap
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


# ---------------------------------------------------------------- people


@dataclass(frozen=True, slots=True)
class SimAuthor:
    id: str
    handle: str
    name: str
    followers: int
    verified: bool = False
    lang: str = "en"
    role: str = "citizen"
    outlet: tuple[str, str] = ("", "")


def _build_citizens() -> tuple[tuple[SimAuthor, ...], tuple[SimAuthor, ...]]:
    """A fixed pool of a few hundred residents, the same for every profile and every process."""
    rng = random.Random(20240611)
    taken: set[str] = set()
    english, arabic = [], []

    def unique(handle: str) -> str:
        handle = re.sub(r"[^a-z0-9_.]", "", handle.lower())
        base, n = handle, 1
        while handle in taken:
            n += 1
            handle = f"{base}{n}"
        taken.add(handle)
        return "@" + handle

    def followers() -> int:
        return max(3, int(math.exp(rng.gauss(5.0, 1.2))))

    for i in range(320):
        first, last = rng.choice(corpus.EN_FIRST), rng.choice(corpus.EN_LAST)
        style = rng.random()
        if style < 0.35:
            handle, name = f"{first}{last}", f"{first} {last}"
        elif style < 0.6:
            handle, name = f"{first}_{last[0]}", f"{first} {last[0]}."
        elif style < 0.8:
            handle, name = f"{first}.{last}{rng.randint(1, 99)}", f"{first} {last}"
        else:
            handle = last + rng.choice(("rv", "fan", "mum", "dad", "runs", "1985", "_riverton"))
            name = f"{first} {rng.choice(('🌻', '⚽', '🐕', '', '🏳️‍🌈', '🚲'))}".strip()
        english.append(SimAuthor(f"sim-u{i}", unique(handle), name, followers(), lang="en"))
    for i in range(120):
        (first, first_ar), (last, last_ar) = rng.choice(corpus.AR_FIRST), rng.choice(corpus.AR_LAST)
        style = rng.random()
        handle = f"{first}.{last}" if style < 0.5 else f"{first}_{last}{rng.randint(1, 99)}"
        name = f"{first} {last}" if style > 0.75 else f"{first_ar} {last_ar}"
        arabic.append(SimAuthor(f"sim-u{320 + i}", unique(handle), name, followers(), lang="ar"))
    return tuple(english), tuple(arabic)


CITIZENS_EN, CITIZENS_AR = _build_citizens()
VIPS = tuple(
    SimAuthor(f"sim-v{handle.lstrip('@')}", handle, name, followers, verified, lang, role, outlet)
    for handle, name, outlet, followers, verified, lang, role, _list in corpus.VIPS
)
# (VIP list, handle, display name): the demo seeds the app's VIP lists from this.
NOTABLE_AUTHORS = tuple((vip_list, handle, name) for handle, name, _o, _f, _v, _l, _r, vip_list in corpus.VIPS if vip_list)
_PRESS = tuple(v for v in VIPS if v.role == "press")


# ---------------------------------------------------------------- messages


@dataclass(slots=True, eq=False)
class SimMessage:
    """One message on the simulated network, with its whole future (edit, deletion, follow-ups) decided."""

    id: str
    stream: str
    kind: str
    lang: str
    author: SimAuthor
    text: str
    created_us: int
    conversation_id: str
    in_reply_to_id: str = ""
    category: str = ""
    likes: int = 0  # eventual counts; the server reports them grown to the moment it is asked
    reposts: int = 0
    edited_us: int = 0
    edit_text: str = ""
    deleted_us: int = 0
    child_times: list[int] = field(default_factory=list)

    def events(self) -> list[tuple[int, str, int, SimMessage]]:
        out = [(self.created_us, self.id, CREATED, self)]
        if self.edited_us:
            out.append((self.edited_us, self.id, EDITED, self))
        if self.deleted_us:
            out.append((self.deleted_us, self.id, DELETED, self))
        return out


Event = tuple[int, str, int, SimMessage]


@dataclass(frozen=True, slots=True)
class OwnPost:
    """A post we published, as the reply generator needs it."""

    id: str
    text: str
    created_us: int
    conversation_id: str
    visibility: str = "public"  # "public" or "direct"
    parent_author: SimAuthor | None = None
    parent_lang: str = ""


@dataclass(frozen=True)
class Scenario:
    """How the world departs from an ordinary day: nothing ("normal") or a flash flood from `started_us`.

    `time_scale` compresses the flood's timeline (ramp, peak, decay): at 60, one wall-clock
    minute is one scenario hour. Before the start, a flood world is identical to a normal one."""

    name: str = "normal"
    started_us: int = 0
    time_scale: float = 1.0

    @property
    def era(self) -> str:
        # Messages generated under the flood get ids of their own, so switching a profile's scenario
        # never makes the same id mean two different messages.
        return "f" + f"{stable_int('era', self.started_us, self.time_scale):x}"[:3] if self.name == "flood" else ""

    def era_for_minute(self, minute: int) -> str:
        if self.name != "flood" or (minute + 1) * MINUTE_US <= self.started_us:
            return ""
        return self.era

    def elapsed_min(self, t_us: int) -> float | None:
        if self.name != "flood" or t_us < self.started_us:
            return None
        return (t_us - self.started_us) / MINUTE_US * self.time_scale

    def multiplier(self, t_us: int) -> float:
        e = self.elapsed_min(t_us)
        if e is None:
            return 1.0
        if e <= FLOOD_PEAK_END_MIN:
            level = FLOOD_PEAK
        elif e <= FLOOD_DECAY_END_MIN:
            # Down to 2x over the next 40 hours.
            level = FLOOD_PEAK * 10 ** (-(e - FLOOD_PEAK_END_MIN) / (FLOOD_DECAY_END_MIN - FLOOD_PEAK_END_MIN))
        else:
            level = 1.0 + math.exp(-(e - FLOOD_DECAY_END_MIN) / (24 * 60))
        return 1.0 + (level - 1.0) * (1.0 - math.exp(-e / FLOOD_RAMP_MIN))

    def shares(self, t_us: int) -> tuple[float, float]:
        """(flood topics, recovery topics) as fractions of what people talk about at `t_us`."""
        e = self.elapsed_min(t_us)
        if e is None:
            return 0.0, 0.0
        if e <= FLOOD_PEAK_END_MIN:
            return 0.92, 0.0
        if e <= FLOOD_DECAY_END_MIN:
            f = (e - FLOOD_PEAK_END_MIN) / (FLOOD_DECAY_END_MIN - FLOOD_PEAK_END_MIN)
            return 0.92 - 0.72 * f, 0.4 * f
        days = (e - FLOOD_DECAY_END_MIN) / (24 * 60)
        return 0.2 * math.exp(-days), 0.4 * math.exp(-days / 3)


_ID = re.compile(r"(?P<ns>[0-9a-f]{8})-(?P<stream>[mp])(?P<minute>\d{1,12})(?P<era>f[0-9a-f]{3})?-(?P<i>\d{1,4})(?:-c(?P<c>\d{1,3}))?")
_OWN_OLD_ID = re.compile(r"(?P<ns>[0-9a-f]{8})-o(?P<day>\d{1,7})-(?P<k>[0-2])")

# Weights of normal-day topics for citizens.
_NORMAL_WEIGHTS = (("question", 0.34), ("complaint", 0.30), ("praise", 0.12), ("rumour", 0.07), ("suggestion", 0.10))
_FLOOD_WEIGHTS = (
    ("eyewitness", 0.17), ("question", 0.22), ("road", 0.10), ("evacuation", 0.08), ("shelter", 0.07),
    ("rumour", 0.11), ("help_offer", 0.06), ("praise", 0.06), ("complaint", 0.08),
)
_OWN_POST_HOURS = (9, 13, 17)  # when the account's older (pre-simulation) posts went out, UTC


def _weighted(rng: random.Random, pairs: tuple[tuple[str, float], ...]) -> str:
    r = rng.random() * sum(w for _, w in pairs)
    for name, w in pairs:
        r -= w
        if r < 0:
            return name
    return pairs[-1][0]


def _mood(category: str) -> str:
    """Which emoji suit a message: officials and DMs use none, complaints get cross ones."""
    group, _, topic = category.partition(".")
    if group in ("vip", "dm", "reply") or (group in ("thread", "chatter") and topic != "flood"):
        return ""
    if topic in ("praise", "help_offer"):
        return "thanks"
    if topic == "complaint" or (group == "normal" and topic == "rumour"):
        return "angry"
    if group == "flood" or topic == "flood":
        return "worried"
    return "neutral"


def own_old_post_time(day: int, k: int) -> int:
    return day * DAY_US + _OWN_POST_HOURS[k] * HOUR_US


class Generator:
    """Deterministic messages for one profile in one scenario."""

    def __init__(
        self,
        profile_key: str,
        handle: str,
        *,
        city: tuple[str, str] = corpus.DEFAULT_CITY,
        tz: tzinfo = timezone.utc,
        scenario: Scenario = Scenario(),
    ):
        self.ns = namespace(profile_key)
        self.seed = stable_int("profile", profile_key)
        self.handle = handle
        self.city = city
        self.tz = tz
        self.scenario = scenario
        self.volume = 0.8 + 0.4 * (self.seed % 1000) / 1000  # profiles differ a little in how busy they are
        city_tag = re.sub(r"\W", "", city[0])
        city_ar_tag = re.sub(r"\s+", "_", city[1])
        self._tags = {
            mode: {lang: tuple(t.format(city=city_tag, city_ar=city_ar_tag) for t in tags) for lang, tags in table.items()}
            for mode, table in (("normal", corpus.TAGS_NORMAL), ("flood", corpus.TAGS_FLOOD))
        }
        self._places = {
            lang: {
                "street": tuple(p[li] for p in corpus.STREETS),
                "hood": tuple(p[li] for p in corpus.NEIGHBOURHOODS),
                "place": tuple(p[li] for p in corpus.PLACES),
                "shelter": tuple(p[li].format(city=city[li]) for p in corpus.SHELTERS),
                "bridge": tuple(p[li] for p in corpus.BRIDGES),
                "school": tuple(p[li] for p in corpus.SCHOOLS),
                "day": tuple(p[li] for p in corpus.DAYS),
            }
            for li, lang in enumerate(("en", "ar"))
        }
        self.bucket = lru_cache(maxsize=6000)(self._bucket)
        self._offset_us = lru_cache(maxsize=20000)(self._offset_for_hour)
        self.replies_to_post = lru_cache(maxsize=2000)(self._replies_to_post)

    # ------------------------------------------------------------ rates

    def _offset_for_hour(self, hour: int) -> int:
        offset = from_us(hour * HOUR_US).astimezone(self.tz).utcoffset()
        return int(offset.total_seconds() * 1_000_000) if offset else 0

    def rate_per_hour(self, stream: str, t_us: int) -> float:
        """Expected messages per hour at `t_us`, thread follow-ups included."""
        local = t_us + self._offset_us(t_us // HOUR_US)
        hour_f = (local % DAY_US) / HOUR_US
        h = int(hour_f)
        frac = hour_f - h
        rate = DAY_CURVE[h] * (1 - frac) + DAY_CURVE[(h + 1) % 24] * frac
        if (local // DAY_US + 3) % 7 >= 5:  # 1970-01-01 was a Thursday; Saturday and Sunday are quieter
            rate *= 0.8
        flood, recovery = self.scenario.shares(t_us)
        if flood + recovery:
            # Nobody sleeps through a flood: the night trough fills in (the daytime peaks stay).
            rate += max(0.0, DAY_MEAN - rate) * 0.7 * min(1.0, flood + recovery)
        rate *= self.volume * self.scenario.multiplier(t_us)
        return rate * PUBLIC_FACTOR if stream == STREAM_PUBLIC else rate

    def day_story(self, day: int) -> str:
        """Most days have something that gets people talking."""
        rng = random.Random(stable_int(self.seed, "story", day))
        return "" if rng.random() < 0.3 else rng.choice(sorted(corpus.DAY_STORIES))

    # ------------------------------------------------------------ buckets

    def _bucket(self, stream: str, minute: int) -> tuple[Event, ...]:
        """Every event spawned by the roots created in one minute, in no particular order."""
        era = self.scenario.era_for_minute(minute)
        rng = random.Random(stable_int(self.seed, stream, minute, era))
        start = minute * MINUTE_US
        mid = start + MINUTE_US // 2
        flood, recovery = self.scenario.shares(mid)
        child_mean = 0.35 + 0.5 * flood
        lam = self.rate_per_hour(stream, mid) / 60 / (1 + child_mean)
        n = poisson(rng, lam)
        if not n:
            return ()
        offsets = sorted(rng.randrange(MINUTE_US) for _ in range(n))
        story = self.day_story(start // DAY_US)
        events: list[Event] = []
        for i, offset in enumerate(offsets):
            mode = self._mode(rng, flood, recovery)
            msg_id = f"{self.ns}-{stream}{minute}{era}-{i}"
            if stream == STREAM_MENTIONS:
                root = self._mention_root(rng, msg_id, start + offset, mode, story)
            else:
                root = self._public_root(rng, msg_id, start + offset, mode)
            children = self._children(rng, root, mode, child_mean)
            for m in (root, *children):
                self._fate(rng, m)
                events.extend(m.events())
        return tuple(events)

    @staticmethod
    def _mode(rng: random.Random, flood: float, recovery: float) -> str:
        r = rng.random()
        return "flood" if r < flood else "recovery" if r < flood + recovery else "normal"

    def events(self, stream: str, t0_us: int, t1_us: int, *, cached: bool = True) -> list[Event]:
        """Events of one stream with t0 <= time < t1, sorted."""
        get = self.bucket if cached else self._bucket
        out = [
            ev
            for minute in range(max(0, t0_us // MINUTE_US - LOOKBACK_MINUTES), (t1_us - 1) // MINUTE_US + 1)
            for ev in get(stream, minute)
            if t0_us <= ev[0] < t1_us
        ]
        out.sort(key=lambda ev: ev[:3])
        return out

    def find(self, message_id: str) -> SimMessage | None:
        """The generated message with this id, whatever its state; None when there never was one."""
        match = _ID.fullmatch(message_id)
        if not match or match["ns"] != self.ns:
            return None
        minute = int(match["minute"])
        if (match["era"] or "") != self.scenario.era_for_minute(minute):
            return None
        for _t, ev_id, version, msg in self.bucket(match["stream"], minute):
            if ev_id == message_id and version == CREATED:
                return msg
        return None

    def find_own_old_post(self, message_id: str) -> tuple[int, int] | None:
        """(day, k) of one of the account's pre-simulation posts that replies point at."""
        match = _OWN_OLD_ID.fullmatch(message_id)
        if not match or match["ns"] != self.ns:
            return None
        return int(match["day"]), int(match["k"])

    # ------------------------------------------------------------ composing

    def _slots(self, rng: random.Random, lang: str) -> dict[str, str]:
        p = self._places[lang]
        streets = p["street"]
        s1 = rng.randrange(len(streets))
        s2 = (s1 + 1 + rng.randrange(len(streets) - 1)) % len(streets)
        li = 0 if lang == "en" else 1
        return {
            "handle": self.handle,
            "city": self.city[li],
            "street": streets[s1],
            "street2": streets[s2],
            "hood": rng.choice(p["hood"]),
            "place": rng.choice(p["place"]),
            "shelter": rng.choice(p["shelter"]),
            "bridge": rng.choice(p["bridge"]),
            "school": rng.choice(p["school"]),
            "day": rng.choice(p["day"]),
            "dam": corpus.DAM[li],
            "river": corpus.RIVER[li],
            "n": str(rng.randint(2, 180)),
            "vip_name": "",
            "vip_outlet": "",
        }

    def _compose(
        self, rng: random.Random, templates: tuple[str, ...], lang: str, mode: str, *, mention: str = "", tag_p: float = 0.1,
        slots: dict[str, str] | None = None, mood: str = "",
    ) -> str:
        slots = slots or self._slots(rng, lang)
        tags = self._tags["flood" if mode != "normal" else "normal"][lang]
        slots["tag"] = rng.choice(tags)
        template = rng.choice(templates)
        text = template.format_map(slots).strip()
        if mention and mood and rng.random() < 0.2:
            # Only what people address to the account gets a closing remark; chatter stays terse.
            if text and text[-1] not in ".!?؟…)":
                text += "."
            text += rng.choice(corpus.CLOSERS[mood][lang])
        if "{tag}" not in template and rng.random() < tag_p:
            text = f"{text} {rng.choice(tags)}"
        if mention and "{handle}" not in template:
            text = f"{mention} {text}" if rng.random() < 0.6 else f"{text} {mention}"
        if mood:
            text += rng.choice(corpus.EMOJI_TAIL[mood])
        return _SPACES.sub(" ", text).strip()

    def _citizen(self, rng: random.Random, lang: str) -> SimAuthor:
        if lang == "ar":
            return rng.choice(CITIZENS_AR)
        # Some Arabic-speaking residents write in English.
        return rng.choice(CITIZENS_AR) if rng.random() < 0.1 else rng.choice(CITIZENS_EN)

    @staticmethod
    def _engagement(rng: random.Random, author: SimAuthor, mode: str, dm: bool = False) -> tuple[int, int]:
        if dm:
            return 0, 0
        mean = 1.0 + math.sqrt(author.followers) / 8.0
        if mode == "flood":
            mean *= 2.5
        likes = int(rng.expovariate(1.0 / mean))
        return likes, int(likes * rng.random() * 0.4)

    def _mention_root(self, rng: random.Random, msg_id: str, t_us: int, mode: str, story: str) -> SimMessage:
        r = rng.random()
        kind = "mention" if r < 0.62 else "dm" if r < 0.80 else "reply"
        lang = "ar" if rng.random() < ARABIC_SHARE else "en"
        vip_p = 0.10 if mode == "flood" else 0.035
        template_mode = "flood" if mode == "flood" else "normal"  # once the water is down, DMs are ordinary again
        conversation, in_reply_to = msg_id, ""
        if kind != "dm" and rng.random() < vip_p:
            author = rng.choice(_PRESS) if mode == "flood" and rng.random() < 0.5 else rng.choice(VIPS)
            table = corpus.VIP_TEMPLATES[author.role][template_mode]
            lang = "en" if author.lang == "ar" and "en" in table and rng.random() < 0.2 else author.lang
            lang = lang if lang in table else next(iter(table))
            slots = self._slots(rng, lang)
            slots["vip_name"], slots["vip_outlet"] = author.name, author.outlet[0 if lang == "en" else 1]
            category = f"vip.{author.role}"
            text = self._compose(rng, table[lang], lang, mode, mention=self.handle, slots=slots)
            kind = "mention"
        else:
            author = self._citizen(rng, lang)
            if kind == "dm":
                category = f"dm.{template_mode}"
                text = self._compose(rng, corpus.DM[template_mode][lang], lang, mode, tag_p=0.0)
                conversation = f"{self.ns}-dm-{author.id}"
            elif kind == "reply":
                in_reply_to = self._own_old_post(rng, t_us)
                conversation = in_reply_to
                prefix = self.handle if rng.random() < 0.7 else ""
                category = f"reply.{template_mode}"
                text = self._compose(rng, corpus.REPLIES_TO_US[template_mode][lang], lang, mode, tag_p=0.0, mood=_mood(category))
                text = f"{prefix} {text}".strip()
            else:
                if mode == "flood":
                    topic = _weighted(rng, _FLOOD_WEIGHTS)
                    templates, category = corpus.FLOOD[topic][lang], f"flood.{topic}"
                elif mode == "recovery":
                    templates, category = corpus.FLOOD["recovery"][lang], "flood.recovery"
                elif story and rng.random() < 0.25:
                    templates, category = corpus.DAY_STORIES[story][lang], f"story.{story}"
                else:
                    topic = _weighted(rng, _NORMAL_WEIGHTS)
                    templates, category = corpus.NORMAL[topic][lang], f"normal.{topic}"
                tag_p = 0.35 if mode == "flood" else 0.08
                text = self._compose(rng, templates, lang, mode, mention=self.handle, tag_p=tag_p, mood=_mood(category))
        likes, reposts = self._engagement(rng, author, mode, dm=kind == "dm")
        return SimMessage(msg_id, STREAM_MENTIONS, kind, lang, author, text, t_us, conversation, in_reply_to, category, likes, reposts)

    def _own_old_post(self, rng: random.Random, t_us: int) -> str:
        """One of the account's last three earlier posts, which a reply answers."""
        day = t_us // DAY_US
        candidates = [(d, k) for d in (day - 1, day) for k in range(3) if own_old_post_time(d, k) < t_us][-3:]
        d, k = rng.choice(candidates)
        return f"{self.ns}-o{d}-{k}"

    def _public_root(self, rng: random.Random, msg_id: str, t_us: int, mode: str) -> SimMessage:
        lang = "ar" if rng.random() < ARABIC_SHARE else "en"
        author = self._citizen(rng, lang)
        category = f"chatter.{mode}"
        text = self._compose(rng, corpus.CHATTER[mode][lang], lang, mode, tag_p=0.3 if mode == "flood" else 0.1, mood=_mood(category))
        likes, reposts = self._engagement(rng, author, mode)
        return SimMessage(msg_id, STREAM_PUBLIC, "post", lang, author, text, t_us, msg_id, "", category, likes, reposts)

    def _children(self, rng: random.Random, root: SimMessage, mode: str, child_mean: float) -> list[SimMessage]:
        """Follow-ups in the root's thread: other residents chiming in, or the author chasing."""
        rumour = root.category.endswith("rumour")
        mean = 0.3 if root.kind == "dm" else (child_mean * 3 if rumour else child_mean)
        n = poisson(rng, mean)
        if not n:
            return []
        delays = sorted(min(MAX_CHILD_DELAY_US, max(40_000_000, int(rng.expovariate(1 / (15 * MINUTE_US))))) for _ in range(n))
        children = []
        for c, delay in enumerate(delays):
            t_us = root.created_us + delay
            own = root.kind == "dm" or rng.random() < 0.25
            lang = root.lang if own or rng.random() < 0.85 else ("en" if root.lang == "ar" else "ar")
            author = root.author if own else self._citizen(rng, lang)
            if root.kind == "dm":
                templates, category, kind = corpus.DM["followup_flood" if mode == "flood" else "followup"][lang], "dm.followup", "dm"
            else:
                kind = "comment"
                group = "self" if own else "rumour" if rumour else "flood" if mode == "flood" else "agree"
                templates, category = corpus.THREAD[group][lang], f"thread.{group}"
            if kind == "dm":
                mention = ""
            else:  # replying in a thread mentions its starter as well as the account
                mention = self.handle if root.author.handle == author.handle else f"{root.author.handle} {self.handle}"
            text = self._compose(rng, templates, lang, mode, tag_p=0.0, mood=_mood(category))
            if mention and rng.random() < 0.6:
                text = f"{mention} {text}"
            likes, reposts = self._engagement(rng, author, mode, dm=kind == "dm")
            child = SimMessage(
                f"{root.id}-c{c}", root.stream, kind, lang, author, text, t_us, root.conversation_id, root.id, category, likes, reposts
            )
            root.child_times.append(t_us)
            children.append(child)
        return children

    def _fate(self, rng: random.Random, msg: SimMessage) -> None:
        """Some messages are edited or deleted later; rumours are deleted far more often."""
        r = rng.random()
        delay = rng.random()
        if msg.kind == "dm":
            return
        p_delete = 0.15 if msg.category.endswith("rumour") else 0.02
        if r < p_delete:
            msg.deleted_us = msg.created_us + 3 * MINUTE_US + int(delay * (MAX_FATE_DELAY_US - 3 * MINUTE_US))
        elif r < p_delete + 0.03:
            msg.edited_us = msg.created_us + 2 * MINUTE_US + int(delay * (40 - 2) * MINUTE_US)
            slots = self._slots(rng, msg.lang)
            msg.edit_text = msg.text + rng.choice(corpus.EDIT_SUFFIX[msg.lang]).format_map(slots)

    # ------------------------------------------------------------ replies to our own posts

    def _replies_to_post(self, post: OwnPost) -> tuple[Event, ...]:
        """What people say back to one of our posts; deterministic in the post's id and content."""
        rng = random.Random(stable_int(self.seed, "replies", post.id, post.created_us))
        flood, _recovery = self.scenario.shares(post.created_us)
        mode = "flood" if flood > 0.5 or _FLOOD_WORDS.search(post.text) else "normal"
        arabic_post = bool(re.search(r"[\u0600-\u06FF]", post.text))
        plan: list[tuple[SimAuthor, str, tuple[str, ...], str]] = []  # author, lang, templates, kind
        direct = post.visibility == "direct"
        if post.parent_author is not None:
            who, lang = post.parent_author, post.parent_lang or post.parent_author.lang
            lang = lang if lang in ("en", "ar") else "en"
            if rng.random() < 0.6:
                plan.append((who, lang, corpus.REPLIES_TO_US["answer_back"][lang], "dm" if direct else "reply"))
            if not direct and rng.random() < 0.2:
                other_lang = "ar" if rng.random() < ARABIC_SHARE else "en"
                plan.append((self._citizen(rng, other_lang), other_lang, corpus.REPLIES_TO_US[mode][other_lang], "reply"))
        elif not direct:
            for _ in range(poisson(rng, 8.0 if mode == "flood" else 2.5)):
                lang = "ar" if rng.random() < (0.7 if arabic_post else ARABIC_SHARE) else "en"
                plan.append((self._citizen(rng, lang), lang, corpus.REPLIES_TO_US[mode][lang], "reply"))
        delays = sorted(min(MAX_REPLY_DELAY_US, max(MINUTE_US, int(rng.expovariate(1 / (25 * MINUTE_US))))) for _ in plan)
        events: list[Event] = []
        for k, ((author, lang, templates, kind), delay) in enumerate(zip(plan, delays)):
            text = self._compose(rng, templates, lang, mode, tag_p=0.0)
            if kind == "reply" and rng.random() < 0.8:
                text = f"{self.handle} {text}"  # networks prefill the mention of the account being answered
            likes, reposts = self._engagement(rng, author, mode, dm=kind == "dm")
            conversation = post.conversation_id or post.id
            msg = SimMessage(f"{post.id}-r{k}", STREAM_MENTIONS, kind, lang, author, text, post.created_us + delay, conversation,
                             post.id, f"reply.{mode}" if kind == "reply" else "dm.answer_back", likes, reposts)
            self._fate(rng, msg)
            events.extend(msg.events())
        return tuple(events)


def looks_arabic(text: str) -> bool:
    letters = re.findall(r"[A-Za-z\u0600-\u06FF]", text)
    return bool(letters) and sum(1 for ch in letters if ch >= "\u0600") * 2 >= len(letters)
