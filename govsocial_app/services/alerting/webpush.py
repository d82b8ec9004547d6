"""Web Push: the server's VAPID keys, each user's subscribed devices, and encrypted sends that never block the event loop.

pywebpush 2.5.0's own async path (`webpush_async`) needs aiohttp, and its sync path needs requests,
which would block the loop. So pywebpush does what it is good at (`WebPusher.encode`: RFC 8188
aes128gcm encryption) and py_vapid signs the VAPID JWT, both in a worker thread, and the POST
goes through httpx.AsyncClient."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPusher
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from connectors import netguard
from govsocial_app.config import get_settings
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import PushSubscription, Setting
from govsocial_app.services import audit, crypto
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError

log = logging.getLogger(__name__)

SETTING = "webpush.vapid"
SYSTEM = Actor.system("web push")
JWT_LIFETIME_S = 12 * 3600  # RFC 8292 allows at most 24 h
MAX_PAYLOAD = 3000  # push services accept about 4 KB of ciphertext
GONE = (404, 410)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---------------------------------------------------------------- VAPID keys


@dataclass(frozen=True)
class VapidKeys:
    public_key: str  # base64url of the uncompressed P-256 point: the browser's applicationServerKey
    private_key: str  # base64url of the raw 32-byte scalar

    def signer(self) -> Vapid:
        return Vapid.from_raw(self.private_key.encode())


def _public_of(private: ec.EllipticCurvePrivateKey) -> str:
    return b64url(private.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


def _raw_private(private: ec.EllipticCurvePrivateKey) -> str:
    return b64url(private.private_numbers().private_value.to_bytes(32, "big"))


def generate_keys() -> VapidKeys:
    private = ec.generate_private_key(ec.SECP256R1())
    return VapidKeys(_public_of(private), _raw_private(private))


def _keys_from_env(private_text: str, public_text: str) -> VapidKeys:
    """VAPID_PRIVATE_KEY as raw base64url (what `vapid --gen` and most guides print), PEM or DER."""
    try:
        text = private_text.strip()
        signer = Vapid.from_pem(text.encode()) if "-----BEGIN" in text else Vapid.from_string(text)
    except Exception as exc:  # py_vapid raises several types for a malformed key
        raise UserError("VAPID_PRIVATE_KEY is not a P-256 private key (raw base64url, PEM or DER).") from exc
    keys = VapidKeys(_public_of(signer.private_key), _raw_private(signer.private_key))
    if public_text.strip() and public_text.strip().rstrip("=") != keys.public_key:
        raise UserError("VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY.")
    return keys


_cache: dict[str, VapidKeys] = {}
_cache_lock = threading.Lock()


def _load_or_create() -> VapidKeys:
    with session_scope() as s:
        row = s.get(Setting, SETTING)
        if row is not None:
            return VapidKeys(row.value["public"], crypto.decrypt_json(row.value["private_enc"])["private"])
    keys = generate_keys()
    try:
        with session_scope() as s:
            s.add(Setting(key=SETTING, value={"public": keys.public_key, "private_enc": crypto.encrypt_json({"private": keys.private_key})}))
            audit.record(s, SYSTEM, "webpush.keys_generated", "setting", SETTING, public_key=keys.public_key)
        return keys
    except IntegrityError:
        # Another worker generated them first: every process must use the same pair.
        return _load_or_create()


def vapid_keys() -> VapidKeys:
    """The server's VAPID key pair: VAPID_PRIVATE_KEY/VAPID_PUBLIC_KEY when set, else generated on first use and stored."""
    settings = get_settings()
    cache_key = f"{settings.database_url}|{settings.vapid_private_key}|{settings.vapid_public_key}"
    with _cache_lock:
        if cache_key not in _cache:
            if settings.vapid_private_key:
                _cache[cache_key] = _keys_from_env(settings.vapid_private_key, settings.vapid_public_key)
            else:
                _cache[cache_key] = _load_or_create()
        return _cache[cache_key]


# ---------------------------------------------------------------- devices


@dataclass(frozen=True)
class PushTarget:
    subscription_id: int
    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class Device:
    id: int
    label: str
    service: str  # the push service's host, e.g. fcm.googleapis.com
    created_at: datetime
    last_success_at: datetime | None


_LOOPBACK = ("127.0.0.0/8", "::1/128")  # demo mode: a local push-service mock (see _check_endpoint)


def _check_endpoint(endpoint: str) -> None:
    """Push endpoints are https URLs of a push service on the internet. Plain http is accepted only for
    a loopback host in demo mode (local push-service mocks). Anything else would let a signed-in user
    make the server POST to addresses of their choosing, such as services on the internal network."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if parts.scheme == "http" and get_settings().demo and (host == "localhost" or (ip is not None and ip.is_loopback)):
        return
    if parts.scheme != "https" or not host:
        raise UserError("This browser gave a push address GovSocial cannot use (it must be https).")
    try:
        # A name is resolved too: one that points at the internal network is refused like the address itself.
        netguard.check_url_now(endpoint)
    except netguard.BlockedAddress as exc:
        raise UserError("This push address is on a private network; GovSocial sends only to public push services.") from exc
    except httpcore.ConnectError:
        pass  # it does not resolve from here now: each send checks the address again when it connects


def push_client() -> httpx.AsyncClient:
    """Every connection checked again when it is made (the name may resolve differently by then)."""
    return httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0), transport=netguard.guarded_transport(extra=_LOOPBACK if get_settings().demo else ()))


def _parse_subscription(subscription: dict[str, Any] | str) -> tuple[str, str, str]:
    data = json.loads(subscription) if isinstance(subscription, str) else dict(subscription or {})
    endpoint = str(data.get("endpoint") or "")
    keys = data.get("keys") or {}
    p256dh, auth = str(keys.get("p256dh") or ""), str(keys.get("auth") or "")
    if not endpoint or len(endpoint) > 1000:
        raise UserError("The browser did not give a push address.")
    _check_endpoint(endpoint)
    try:
        point, secret = b64url_decode(p256dh), b64url_decode(auth)
    except ValueError as exc:
        raise UserError("The browser's push keys are not valid.") from exc
    if len(point) != 65 or point[0] != 4 or len(secret) != 16:
        raise UserError("The browser's push keys are not valid.")
    return endpoint, p256dh, auth


def subscribe(actor: Actor, subscription: dict[str, Any] | str, label: str) -> int:
    """Store this device's subscription for the actor. Re-subscribing the same browser updates its row."""
    require(actor, "self.edit")
    endpoint, p256dh, auth = _parse_subscription(subscription)
    label = (label or "").strip()[:120] or "This device"
    with session_scope() as s:
        row = s.exec(select(PushSubscription).where(PushSubscription.endpoint == endpoint)).first()
        if row is None:
            row = PushSubscription(user_id=actor.user_id, endpoint=endpoint, p256dh=p256dh, auth=auth, device_label=label)
            s.add(row)
        else:
            # The browser owns the endpoint; whoever signs in on it now gets its alerts.
            row.user_id, row.p256dh, row.auth, row.device_label, row.deleted_at = actor.user_id, p256dh, auth, label, None
        s.flush()
        audit.record(s, actor, "push.subscribe", "push_subscription", row.id, label=label, service=urlsplit(endpoint).hostname)
        return row.id


def unsubscribe(actor: Actor, subscription_id: int) -> None:
    """Remove one of the actor's devices (an admin may remove anyone's)."""
    require(actor, "self.edit")
    with session_scope() as s:
        row = s.get(PushSubscription, subscription_id)
        if row is None or row.deleted_at is not None:
            raise UserError("That device is already removed.")
        if row.user_id != actor.user_id and actor.role != "admin":
            raise UserError("You can only remove your own devices.")
        row.deleted_at = datetime.now(timezone.utc)
        audit.record(s, actor, "push.unsubscribe", "push_subscription", row.id, label=row.device_label)


def devices(user_id: int) -> list[Device]:
    with session_scope() as s:
        rows = s.exec(
            select(PushSubscription)
            .where(PushSubscription.user_id == user_id, col(PushSubscription.deleted_at).is_(None))
            .order_by(col(PushSubscription.id))
        ).all()
        return [Device(r.id, r.device_label, urlsplit(r.endpoint).hostname or "", r.created_at, r.last_success_at) for r in rows]


def subscription_ids_by_user(s: Session, user_ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    if not user_ids:
        return out
    rows = s.exec(
        select(PushSubscription.id, PushSubscription.user_id)
        .where(col(PushSubscription.user_id).in_(list(user_ids)), col(PushSubscription.deleted_at).is_(None))
        .order_by(col(PushSubscription.id))
    ).all()
    for sid, uid in rows:
        out.setdefault(uid, []).append(sid)
    return out


def target(s: Session, subscription_id: int) -> PushTarget | None:
    row = s.get(PushSubscription, subscription_id)
    if row is None or row.deleted_at is not None:
        return None
    return PushTarget(row.id, row.endpoint, row.p256dh, row.auth)


# ---------------------------------------------------------------- sending


@dataclass(frozen=True)
class PushResult:
    status: int  # the push service's HTTP status, 0 when it could not be reached
    ok: bool
    gone: bool  # 404/410: the subscription is dead and was removed
    error: str = ""


def _encrypt_and_sign(t: PushTarget, data: bytes, keys: VapidKeys, ttl: int, urgency: str) -> tuple[bytes, dict[str, str]]:
    """CPU work (ECDH, HKDF, AES-GCM, ECDSA): run in a thread."""
    body = WebPusher({"endpoint": t.endpoint, "keys": {"p256dh": t.p256dh, "auth": t.auth}}).encode(data, "aes128gcm")["body"]
    parts = urlsplit(t.endpoint)
    claims = {"aud": f"{parts.scheme}://{parts.netloc}", "exp": int(time.time()) + JWT_LIFETIME_S, "sub": get_settings().vapid_subject}
    headers = {
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "TTL": str(ttl),
        "Urgency": urgency,
        **keys.signer().sign(claims),
    }
    return body, headers


def encode_payload(payload: dict[str, Any]) -> bytes:
    """JSON for the service worker, with the body cut so the whole stays under what push services accept."""
    data = json.dumps(payload, ensure_ascii=False).encode()
    if len(data) > MAX_PAYLOAD and payload.get("body"):
        over = len(data) - MAX_PAYLOAD
        body = payload["body"].encode()[: max(0, len(payload["body"].encode()) - over - 3)].decode(errors="ignore") + "…"
        data = json.dumps({**payload, "body": body}, ensure_ascii=False).encode()
    return data


def _mark(subscription_id: int, *, gone: bool, status: int) -> None:
    with session_scope() as s:
        row = s.get(PushSubscription, subscription_id)
        if row is None:
            return
        now = datetime.now(timezone.utc)
        if gone and row.deleted_at is None:
            row.deleted_at = now
            audit.record(s, SYSTEM, "push.pruned", "push_subscription", row.id, label=row.device_label, status=status)
        elif not gone:
            row.last_success_at = now


async def send(
    t: PushTarget, payload: dict[str, Any], *, ttl: int = 3600, urgency: str = "normal", client: httpx.AsyncClient | None = None
) -> PushResult:
    """Encrypt `payload` for one device and hand it to its push service. A 404/410 removes the device.
    Network errors come back as a result, not an exception, so one dead device never stops the others."""
    keys = await asyncio.to_thread(vapid_keys)
    body, headers = await asyncio.to_thread(_encrypt_and_sign, t, encode_payload(payload), keys, ttl, urgency)
    own = client is None
    client = client or push_client()
    try:
        resp = await client.post(t.endpoint, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return PushResult(0, False, False, f"push service unreachable: {type(exc).__name__}: {exc}"[:1000])
    finally:
        if own:
            await client.aclose()
    if 200 <= resp.status_code < 300:
        await asyncio.to_thread(_mark, t.subscription_id, gone=False, status=resp.status_code)
        return PushResult(resp.status_code, True, False)
    if resp.status_code in GONE:
        await asyncio.to_thread(_mark, t.subscription_id, gone=True, status=resp.status_code)
        return PushResult(resp.status_code, False, True, f"push service answered {resp.status_code}: the device unsubscribed")
    # Only the status: the body of whatever answered is not for the alert centre to display.
    return PushResult(resp.status_code, False, False, f"push service answered {resp.status_code} {resp.reason_phrase}".strip())


TEST_TITLE = "Test alert from GovSocial"
TEST_BODY = "Alerts will reach this device."


async def send_test(actor: Actor, *, title: str = TEST_TITLE, body: str = TEST_BODY) -> tuple[int, int]:
    """Push a test notification to every device of the actor; (delivered, failed)."""
    require(actor, "self.edit")

    def load() -> list[PushTarget]:
        with session_scope() as s:
            ids = subscription_ids_by_user(s, [actor.user_id]).get(actor.user_id, [])
            found = [target(s, i) for i in ids]
            audit.record(s, actor, "push.test", "user", actor.user_id, devices=len(ids))
            return [t for t in found if t is not None]

    targets = await asyncio.to_thread(load)
    if not targets:
        raise UserError("No device of yours is set up for alerts yet.")
    payload = {"title": title, "body": body, "url": "/more/notifications", "tag": "govsocial-test", "severity": "info"}
    async with push_client() as client:
        results = await asyncio.gather(*(send(t, payload, client=client) for t in targets))
    ok = sum(1 for r in results if r.ok)
    return ok, len(results) - ok
