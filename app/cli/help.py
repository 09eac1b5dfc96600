"""Help screens in a command line's words, not Python's.

Typer labels each parameter with its Python annotation (``<list[Path]>``, ``<bool>``,
``<int range>``) and writes required arguments as ``{files}...``. danchuang's commands use the
classes below instead, so ``--help`` reads as people expect from a command line::

    Usage: danchuang validate [OPTIONS] FILES...
      FILES...    PATH             CEB XML messages to check. [required]
      --regime    TEXT             Supervision code 9610, 1210, 9710 or 9810 ...
      --format    text|json|junit  text, json (one object per file) or junit. [default: text]
      --help                       (a flag takes no value)

``Typer`` is ``typer.Typer`` whose groups and commands use them; every module registers its
commands on one (``app.cli.cli``). ``tests/cli/test_help.py`` reads every command's help.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer import _click
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption
from typer.models import CommandFunctionType


def _label(param: TyperArgument | TyperOption) -> str | None:
    """What a value of ``param`` looks like: ``TEXT``, ``INTEGER``, ``PATH``, ``a|b``; None for
    a flag, which takes no value."""
    if isinstance(param, TyperOption) and (param.is_flag or param.count):
        return None
    descriptor = param.type_descriptor
    if descriptor.is_choice:
        return "|".join(str(getattr(c, "value", c)) for c in descriptor.choices or ())
    if descriptor.is_path:
        return "PATH"
    python_type = descriptor.ranged_type_name if descriptor.is_ranged else param.bare_type()
    element = python_type.removeprefix("list[").removesuffix("]")
    return {"int": "INTEGER", "float": "NUMBER", "str": "TEXT"}.get(element, element.upper())


class _Argument(TyperArgument):
    @property
    def display_name_raw(self) -> str:
        return (self.metavar or self.name or "").upper()

    def display_type(self, ctx: _click.Context) -> str:
        return _label(self) or ""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw + ("..." if self.nargs != 1 else "")
        return name if self.required else f"[{name}]"


class _Option(TyperOption):
    def display_type(self, ctx: _click.Context) -> str:
        return _label(self) or ""

    def display_type_rich(self, ctx: _click.Context) -> str | None:
        return self.metavar if self.metavar is not None else _label(self)


def _plain(params: list[_click.Parameter]) -> list[_click.Parameter]:
    """The same parameters, relabelled (the classes add behaviour only, no state)."""
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = _Argument
        elif type(param) is TyperOption:
            param.__class__ = _Option
    return params


class Command(TyperCommand):
    def get_params(self, ctx: _click.Context) -> list[_click.Parameter]:
        return _plain(super().get_params(ctx))


class Group(TyperGroup):
    def get_params(self, ctx: _click.Context) -> list[_click.Parameter]:
        return _plain(super().get_params(ctx))


class Typer(typer.Typer):
    """``typer.Typer`` whose help screens use the labels above."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cls=Group, **kwargs)

    def command(
        self, *args: Any, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        kwargs.setdefault("cls", Command)
        return super().command(*args, **kwargs)
