"""Emails to authors about appreciations (filled in by the author panel work)."""


def appreciation_paid_notify(appreciation_id: int) -> None:
    """Called after the transaction that marked an appreciation paid has committed."""
