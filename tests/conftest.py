from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Wall-clock deadlines make property tests flaky on a loaded CI machine without
# testing any behaviour; example counts are what matter.
settings.register_profile("default", deadline=None)
settings.register_profile(
    "ci", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("fuzz", deadline=None, max_examples=20_000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)
