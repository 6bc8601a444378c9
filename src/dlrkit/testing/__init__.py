"""Test support for applications that handle delivery receipts.

- Factories (no extra dependency): :func:`make_dlr`, :func:`make_dlr_payload`
  and :func:`make_dlr_request` build receipts, wire payloads and whole webhook
  requests with keyword overrides.
- A pytest plugin (registered automatically) offers them as the fixtures
  ``make_dlr``, ``make_dlr_payload`` and ``make_dlr_request``.
- :mod:`dlrkit.testing.strategies` (extra ``dlrkit[testing]``) has Hypothesis
  strategies, also registered so that ``st.from_type(DeliveryReceipt)`` works.
"""

from ._factories import make_dlr, make_dlr_payload, make_dlr_request

__all__ = ["make_dlr", "make_dlr_payload", "make_dlr_request"]
