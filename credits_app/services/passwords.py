"""Password hashing with Argon2id, never more than PASSWORD_HASH_CONCURRENCY hashes at once.

Each hash costs tens of megabytes and a core for a good fraction of a second, so a burst of
logins must queue here instead of taking every core (or the memory) of the server. Callers on
an event loop use `run_password_work`: the work then waits in a small pool of its own, and
never occupies the threads that every other request shares.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import argon2
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from credits_app.services.errors import Unavailable
from credits_app.settings import get_settings

T = TypeVar("T")
MAX_PASSWORD_LENGTH = 1024
# How long a hash waits for a free slot before the caller is told to retry.
SLOT_WAIT_SECONDS = 10


@functools.cache
def _hasher(time_cost: int, memory_kib: int) -> tuple[PasswordHash, str]:
    """Return the hasher and a hash of a random password with the same parameters.

    Verifying the dummy hash when there is no account makes an unknown email cost exactly
    what a wrong password costs. It is made with argon2-cffi directly, so only real
    hashes and verifications go through the (countable) hasher.
    """
    dummy = argon2.PasswordHasher(time_cost=time_cost, memory_cost=memory_kib).hash(
        "no account has this password"
    )
    hasher = PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib),))
    return hasher, dummy


def _current() -> tuple[PasswordHash, str]:
    settings = get_settings()
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_kib)


@functools.cache
def _slots(size: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(size)


@contextmanager
def _slot() -> Iterator[None]:
    slots = _slots(get_settings().password_hash_concurrency)
    if not slots.acquire(timeout=SLOT_WAIT_SECONDS):
        raise Unavailable("the server is busy checking passwords; try again in a moment")
    try:
        yield
    finally:
        slots.release()


def hash_password(password: str) -> str:
    """Return the Argon2id hash of a password (waits for a free hashing slot).

    Raises:
        Unavailable: When no slot freed up within SLOT_WAIT_SECONDS.
    """
    hasher, _ = _current()
    with _slot():
        return hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Tell whether the password matches; with no hash, spend the same work and say no.

    Raises:
        Unavailable: When no slot freed up within SLOT_WAIT_SECONDS.
    """
    hasher, dummy = _current()
    with _slot():
        matches = hasher.verify(password, password_hash or dummy)
    return matches and password_hash is not None


@functools.cache
def _pool(size: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix="credits-passwords")


async def run_password_work(work: Callable[..., T], /, **kwargs) -> T:
    """Run `work(**kwargs)`, which hashes or verifies a password, in the password pool."""
    pool = _pool(get_settings().password_hash_concurrency)
    call = functools.partial(work, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(pool, call)
