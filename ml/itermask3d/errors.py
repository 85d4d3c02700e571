"""Exception raised for unusable input scans."""


class InputError(ValueError):
    """The uploaded scan cannot be analysed; the message is one sentence for the user."""
