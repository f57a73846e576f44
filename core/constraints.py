"""Check constraints that many models declare alike, so the database
enforces them the same way everywhere."""

from django.db import models


def choice_constraint(
    field: str, choices: type[models.Choices], name: str
) -> models.CheckConstraint:
    """The database refuses a ``field`` value that is not one of ``choices``."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)


def first_of_month_constraint(
    field: str, name: str, *, null: bool = False
) -> models.CheckConstraint:
    """A month is stored as its first day; ``null``: or left empty."""
    condition = models.Q(**{f"{field}__day": 1})
    if null:
        condition = models.Q(**{f"{field}__isnull": True}) | condition
    return models.CheckConstraint(condition=condition, name=name)
