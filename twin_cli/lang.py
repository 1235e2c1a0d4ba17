"""The ``--lang`` option of every command that writes a report."""

from __future__ import annotations

from enum import StrEnum

import typer


class Lang(StrEnum):
    zh = "zh"
    en = "en"


LANG_OPTION = typer.Option(
    None, "--lang", help="Language of the report: zh or en [default: the city's, Chinese for Changle].",
    case_sensitive=False,
)
"""Typer option for ``--lang``; ``None`` means the city's language."""


def lang_value(lang: Lang | None) -> str | None:
    return lang.value if lang is not None else None
