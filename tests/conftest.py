"""Hypothesis profiles ("ci", derandomized and bounded, the default; "deep" for long local runs) and shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=60,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "deep",
    max_examples=2000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def restore_registry() -> Iterator[None]:
    """Ops registered during a test (by a plugin, a test module, ``--custom`` or ``custom_op``) are removed
    afterwards, with their framework declarations."""
    from autodiff import op_names
    from verification.frameworks import remove_custom

    before = set(op_names())
    yield
    for name in set(op_names()) - before:
        remove_custom(name)
