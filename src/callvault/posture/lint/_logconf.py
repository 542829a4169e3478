"""Which loggers a logging configuration sets to DEBUG, with the line that does it.

Three dialects: ``logging.config.dictConfig`` documents (YAML or JSON, also nested under
a key of a larger file, as uvicorn's ``--log-config`` or an app's ``logging:`` section),
``fileConfig`` INI files (``[logger_x]`` sections with ``qualname``/``level``), and Python
code (``getLogger("x").setLevel(logging.DEBUG)``, ``basicConfig(level=logging.DEBUG)``,
SQLAlchemy ``create_engine(…, echo=True)`` which logs statements with their parameters).
A file that does not parse is not a logging configuration: it yields nothing.
"""

from __future__ import annotations

import configparser
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import yaml

from callvault.posture.lint._files import SourceFile
from callvault.posture.lint._text import code_lines

__all__ = ["debug_loggers"]

_LOOKS_LIKE_DICT_CONFIG = re.compile(r"""(?:^|[{,\s])["']?(?:loggers|root)["']?\s*:""")
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SET_LEVEL = re.compile(
    r"""getLogger\(\s*(?:["']([\w.]+)["'])?\s*\)\.setLevel\(\s*(?:logging\.)?["']?DEBUG\b"""
)
_BASIC_DEBUG = re.compile(r"basicConfig\(.*\blevel\s*=\s*(?:logging\.)?[\"']?DEBUG\b")
_ECHO = re.compile(r"create_(?:async_)?engine\(.*\becho\s*=\s*True\b")


def debug_loggers(source: SourceFile, watched: Sequence[str]) -> Iterator[tuple[int, str]]:
    """(line, logger) for each watched logger (or a child of one) set to DEBUG."""
    if source.suffix in (".yaml", ".yml", ".json"):
        found = _dict_config(source)
    elif source.suffix in (".ini", ".cfg", ".conf"):
        found = _file_config(source)
    elif source.is_python:
        found = _python(source)
    else:
        return
    for line, logger in found:
        if any(logger == w or logger.startswith(w + ".") for w in watched):
            yield line, logger


def _level_is_debug(config: Any) -> bool:
    return isinstance(config, dict) and str(config.get("level", "")).upper() == "DEBUG"


def _key_line(source: SourceFile, key: str, after: int = 0) -> int:
    pattern = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*[:=]""")
    for number, line in enumerate(source.lines, start=1):
        if number > after and pattern.match(line):
            return number
    return after or 1


def _dict_configs(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("loggers"), dict) or ("root" in node and "handlers" in node):
            yield node
        for value in node.values():
            yield from _dict_configs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _dict_configs(value)


def _dict_config(source: SourceFile) -> list[tuple[int, str]]:
    if not _LOOKS_LIKE_DICT_CONFIG.search(source.text):
        return []  # parsing every YAML file of a repository costs more than all else
    try:
        if source.suffix == ".json":
            document = json.loads(source.text)
        else:
            document = yaml.load(source.text, Loader=_SAFE_LOADER)  # noqa: S506 - safe loader
    except (ValueError, yaml.YAMLError):
        return []
    found: list[tuple[int, str]] = []
    for config in _dict_configs(document):
        loggers = config.get("loggers") or {}
        anchor = _key_line(source, "loggers") if loggers else 0
        for name, logger in loggers.items() if isinstance(loggers, dict) else ():
            if _level_is_debug(logger):
                found.append((_key_line(source, str(name), anchor), str(name)))
        if _level_is_debug(config.get("root")):
            found.append((_key_line(source, "root"), "root"))
        if "" in loggers and _level_is_debug(loggers[""]):
            found.append((_key_line(source, "", anchor), "root"))
    return found


def _file_config(source: SourceFile) -> list[tuple[int, str]]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(source.text)
    except configparser.Error:
        return []
    if not parser.has_section("loggers"):
        return []
    found: list[tuple[int, str]] = []
    for section in parser.sections():
        if not section.startswith("logger_"):
            continue
        level = parser.get(section, "level", fallback="").strip().upper()
        if level == "DEBUG":
            name = (
                "root"
                if section == "logger_root"
                else parser.get(section, "qualname", fallback=section.removeprefix("logger_"))
            )
            header = next(
                (n for n, line in enumerate(source.lines, 1) if line.strip() == f"[{section}]"),
                1,
            )
            found.append((header, name.strip()))
    return found


def _python(source: SourceFile) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for number, line in code_lines(source):
        if match := _SET_LEVEL.search(line):
            found.append((number, match.group(1) or "root"))
        elif _BASIC_DEBUG.search(line):
            found.append((number, "root"))
        elif _ECHO.search(line):
            found.append((number, "sqlalchemy.engine"))
    return found
