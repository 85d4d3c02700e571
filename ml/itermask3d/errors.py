"""Exceptions the engine raises for problems a user can fix (one sentence each, no traceback)."""


class InputError(ValueError):
    """The uploaded scan cannot be analysed; the message is one sentence for the user."""


class MissingModelError(ValueError):
    """No trained weights for the requested profile and sequence (or weights of another sequence).

    A result from random weights looks like any other result, so a product run refuses instead."""
