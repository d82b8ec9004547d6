"""Errors whose message is written for the user and safe to show as-is."""


class UserError(Exception):
    """A problem the user can fix; the message says how."""


class NotSignedIn(UserError):
    def __init__(self) -> None:
        super().__init__("Your session has ended. Sign in again.")
