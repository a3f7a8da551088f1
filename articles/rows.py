"""Model instances from one SELECT written out once, for the few reads that run all day.

The ORM compiles a query on every call; for a join of a few tables (an uncached article page,
a webhook's locked read of its appreciation) that cost more than the database took to answer.
Here the column list is written once per process, and each row becomes instances exactly as
the ORM makes them: every concrete field, through the database's converters (SQLite returns
datetimes as text, booleans as integers and UUIDs as hex), via Model.from_db.
"""

import functools
from typing import Any

from django.db import connection, models

Models = tuple[type[models.Model], ...]


def table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def columns(chain: Models) -> str:
    """The SELECT list for every concrete field of each model, in order."""
    quote = connection.ops.quote_name
    return ", ".join(
        f"{table(model)}.{quote(field.column)}" for model in chain for field in model._meta.concrete_fields
    )


@functools.cache
def _readers(chain: Models) -> list[tuple[type[models.Model], list[str], list[tuple[int, Any, list]]]]:
    """Per model: its field names, and the converters of the fields that have any."""
    readers = []
    for model in chain:
        fields = model._meta.concrete_fields
        converters = []
        for index, field in enumerate(fields):
            expression = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(expression) + field.get_db_converters(connection)
            if found:
                converters.append((index, expression, found))
        readers.append((model, [field.attname for field in fields], converters))
    return readers


def instances(row: tuple, chain: Models) -> list[models.Model]:
    """One instance per model from a row selected with columns(chain)."""
    found, start = [], 0
    for model, names, converters in _readers(chain):
        values = list(row[start : start + len(names)])
        start += len(names)
        for index, expression, convert_all in converters:
            for convert in convert_all:
                values[index] = convert(values[index], expression, connection)
        found.append(model.from_db(connection.alias, names, values))
    return found


def column(model: type[models.Model], name: str) -> str:
    """A field's column, quoted and qualified with its table."""
    return f"{table(model)}.{connection.ops.quote_name(model._meta.get_field(name).column)}"


def join(descriptor: Any) -> str:
    """INNER JOIN of the table a foreign key points to (`descriptor`: Model.field), as
    select_related joins a foreign key that cannot be null."""
    field = descriptor.field
    target, source = column(field.related_model, field.target_field.name), column(field.model, field.name)
    return f" INNER JOIN {table(field.related_model)} ON {target} = {source}"


def attach(instance: models.Model, descriptor: Any, related: models.Model) -> None:
    """Set a foreign key's loaded object, as select_related does (`descriptor`: Model.field)."""
    descriptor.field.set_cached_value(instance, related)


@functools.cache
def _update_sql(model: type[models.Model], names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(model._meta.get_field(name).column)} = %s" for name in names)
    pk = quote(model._meta.pk.column)
    return f"UPDATE {table(model)} SET {assignments} WHERE {pk} = %s"  # noqa: S608 - names from the model; values are bound


def update(instance: models.Model, names: list[str]) -> None:
    """instance.save(update_fields=names) for a row that exists, with its SQL written once:
    values prepared as save() prepares them (auto_now fields set now). No signals are sent, so
    it is only for models without a save() of their own, which it would skip."""
    if type(instance).save is not models.Model.save:
        raise TypeError(f"{instance._meta.label} has its own save(); rows.update() would skip it")
    fields = [instance._meta.get_field(name) for name in names]
    values = [field.get_db_prep_save(field.pre_save(instance, False), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(type(instance), tuple(names)), [*values, instance.pk])
        if cursor.rowcount != 1:
            raise models.ObjectDoesNotExist(f"{instance._meta.label} {instance.pk} was not updated")
