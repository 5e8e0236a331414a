"""Refusals: settings or inputs a lesson cannot use, worded so that any language can say them.

An engine function that refuses raises a :class:`Refusal` (a ``ValueError``). Its message
is an English sentence (for the server's log and the engine's tests); its ``reason`` is a
short code and its ``values`` the numbers and names that sentence uses, so a page says it
in the session's language: the catalogue's ``error.<reason>`` filled with ``values``
(``pages/ui.explain``). ``arithmetic.SizeError`` is one; so are the kernel editor's, the
weight loader's and the layer-spec reader's refusals.
"""

from __future__ import annotations


class Refusal(ValueError):
    """A setting or input with no result, and why.

    Attributes:
        reason: what went wrong, as a short code (``"window_too_big"``, ``"kernel_cell_not_number"``...).
        values: the numbers and names the explanation uses, including the nearest valid
            setting where there is one (e.g. ``min_padding``).
    """

    def __init__(self, reason: str, message: str, **values: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.values = values
