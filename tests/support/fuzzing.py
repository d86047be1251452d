"""How many examples a property test or the API fuzzing draws: the count a test gives is the
normal run's (tests/conftest.py's "deterministic" profile); --fuzz-hard's profile draws as many
times more as its own default count is above Hypothesis's."""

from __future__ import annotations

from hypothesis import settings


def examples(normal: int) -> int:
    """`normal` in the normal run, FUZZ_HARD_FACTOR (tests/conftest.py) times it with
    --fuzz-hard."""
    return normal * settings.default.max_examples // settings.get_profile("default").max_examples
