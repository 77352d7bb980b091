"""One way to declare and validate settings: pydantic v2 models, one-line messages.

Every settings file of the workbook — ``params/company.yaml`` (:mod:`clvlib.params`), the pay plans in
``params/plans/`` (:mod:`clvlib.plans.schema`) and, later, the sources files — is declared as a tree of
:class:`Settings` models (pydantic v2, ``extra="forbid"`` so a misspelled key is an error, ``strict``
so ``"12"`` is not silently taken for 12) and read with :func:`load_model`. Whatever is wrong with a
file is reported at once, as ONE :class:`clvlib.errors.ParamsError` whose message names the file and
every problem, each as ``dotted.key: must be <what was expected>, got <what was given>``::

    params/company.yaml: clv.horizon_months: must be a whole number between 1 and 120, got 'twelve';
    language: must be one of en, zh, got 'fr'; clv.horizn_months: unknown setting (did you mean
    horizon_months? known here: time_unit, horizon_months, ...)

How a model says what it expects:

* numbers: ``int`` / ``float`` with ``Field(ge=..., le=...)`` -> "a whole number between 1 and 120";
* choices: ``Literal["en", "zh"]`` -> "one of en, zh";
* anything else: a type made by :func:`checked` (a predicate and the words for what it accepts, used
  both in the message and in :func:`describe`);
* a rule across several keys: a validator raising :class:`Problem` (``key``, message) or
  :class:`Problems` (several), or a ``checks(raw, model)`` function given to :func:`validate`, which
  runs on the raw mapping even when other keys are invalid (so those problems come in the same line).

A key written but left empty (``switch:`` in YAML, i.e. null) takes its default, as if it were absent.
List items are numbered from 1 in messages (``tiers.labels[2]``). :func:`describe` lists every key of
a model with its type, default and meaning — ``clvlib params`` and ``clvlib plans`` print it.
"""
from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Callable, ClassVar, Literal, Union

import yaml
from annotated_types import Ge, Gt, Le, Lt
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError, PydanticUndefined

from clvlib.errors import ParamsError

__all__ = ["Settings", "Expect", "Problem", "Problems", "checked", "read_yaml", "validate", "load_model",
           "describe", "messages"]


class Settings(BaseModel):
    """Base of every settings model: unknown keys are errors, types are not coerced, nulls take defaults.

    ``unknown_key`` is the start of the message for a key the model does not know (a model whose keys
    are names of something else says so: "not a column of orders"); the known keys and the closest one
    follow it. ``expected`` is what the model's mapping is, in words, for the message when something
    else was given.
    """

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=False)
    unknown_key: ClassVar[str] = "unknown setting"
    expected: ClassVar[str] = "a mapping of settings"


@dataclass(frozen=True)
class Expect:
    """Metadata of an ``Annotated`` type: what a valid value is, in words ("a month such as 2026-01")."""

    text: str


class Problem(ValueError):
    """A rule involving several keys failed: ``key`` (relative to the model raising it) and the message."""

    def __init__(self, key: str | None, message: str):
        self.key = key
        self.message = message
        super().__init__(message)


class Problems(ValueError):
    """Several :class:`Problem` at once (a model validator that checks many things)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


def checked(base: Any, ok: Callable[[Any], bool], text: str, before: bool = True):
    """An ``Annotated`` type accepting the values for which ``ok(value)`` is true, described as ``text``.

    ``before=True`` checks the raw value before pydantic's own type check (so the message is ours, e.g.
    "must be a month such as 2026-01 (in quotes)" instead of "Input should be a valid string").
    """

    def check(value):
        try:
            good = ok(value)
        except (TypeError, ValueError):
            good = False
        if not good:
            raise PydanticCustomError("setting", "must be {expected}", {"expected": text})
        return value

    validator = BeforeValidator(check) if before else AfterValidator(check)
    return Annotated[base, validator, Expect(text)]


# ------------------------------------------------------------------ reading
def read_yaml(path: str | Path) -> Any:
    """The YAML content of ``path``; a missing, unreadable or malformed file is a one-line ParamsError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParamsError("file not found", file=path) from None
    except UnicodeDecodeError as e:
        raise ParamsError(f"not UTF-8 text (byte {e.start + 1} cannot be decoded); save the file as UTF-8",
                          file=path) from None
    except OSError as e:
        raise ParamsError(f"cannot read it ({e.__class__.__name__}: {e})", file=path) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ParamsError(f"not valid YAML{where}: {getattr(e, 'problem', e)}", file=path) from None


def _clean(value, loc: tuple = (), odd: list | None = None):
    """Nulls dropped from every mapping (they mean "default"), recursively; keys that YAML did not read
    as text (``on``, ``yes``, ``no`` unquoted are booleans; ``2026`` a number) are left out and noted in
    ``odd`` as (location, key)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                if odd is not None:
                    odd.append((loc, k))
                continue
            if v is not None:
                out[k] = _clean(v, loc + (k,), odd)
        return out
    if isinstance(value, list):
        return [_clean(v, loc + (i,), odd) for i, v in enumerate(value)]
    return value


def validate(raw: Any, model: type[BaseModel], *, file=None, checks=None, key_name=None):
    """``raw`` (a parsed YAML mapping) as a ``model`` instance, or ONE ParamsError with every problem.

    Parameters
    ----------
    raw : object
        The parsed file.
    model : type of Settings
        The root model.
    file : path, optional
        Named in the error.
    checks : callable, optional
        ``checks(raw, instance_or_None) -> list of "key: message"``: rules across keys, run even when
        some keys are invalid (``instance`` is then None).
    key_name : callable, optional
        ``key_name(raw, loc) -> str``: how a location is written (default: dotted, lists from 1).
    """
    if not isinstance(raw, dict):
        raise ParamsError(f"the file: must be a mapping of settings, got {_short(raw)}", file=file)
    problems: list[str] = []
    instance = None
    odd: list = []
    clean = _clean(raw, (), odd)
    try:
        instance = model.model_validate(clean)
    except ValidationError as e:
        problems += messages(e, model, raw, key_name)
    for loc, k in odd:
        where = (key_name or default_key_name)(raw, loc)
        problems.append(_join(where, f"a key YAML reads as {k!r}, not as a name (unquoted on, off, yes and no are "
                                     f"true or false, digits a number): write it in quotes"))

    if checks is not None:
        problems += checks(raw, instance)
    if problems:
        raise ParamsError("; ".join(dict.fromkeys(problems)), file=file)
    return instance


def load_model(path: str | Path, model: type[BaseModel], *, overrides: dict | None = None, checks=None,
               key_name=None):
    """Read the YAML file ``path`` and validate it as ``model`` (see :func:`validate`).

    ``overrides`` (a nested mapping) is merged into the file's content before validation.
    """
    raw = read_yaml(path)
    if raw is None:
        raw = {}
    if overrides:
        raw = merge(raw if isinstance(raw, dict) else {}, overrides)
    return validate(raw, model, file=path, checks=checks, key_name=key_name)


def merge(base: dict, extra: dict) -> dict:
    """``extra`` merged into ``base`` (nested mappings merged, anything else replaced)."""
    out = dict(base)
    for k, v in extra.items():
        out[k] = merge(out.get(k) or {}, v) if isinstance(v, dict) else v
    return out


# ------------------------------------------------------------------ messages
def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def default_key_name(raw, loc: tuple) -> str:
    """``('clv', 'horizon_months')`` -> ``clv.horizon_months``; list positions from 1: ``labels[2]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def messages(error: ValidationError, model: type[BaseModel], raw=None, key_name=None) -> list[str]:
    """One ``key: message`` per problem of a pydantic ``ValidationError`` on ``model``."""
    name = key_name or default_key_name
    out = []
    for e in error.errors():
        loc = tuple(e["loc"])
        exc = (e.get("ctx") or {}).get("error")
        if isinstance(exc, Problems):
            for p in exc.problems:
                out.append(_join(name(raw, loc + _split(p.key)), p.message))
            continue
        if isinstance(exc, Problem):
            out.append(_join(name(raw, loc + _split(exc.key)), exc.message))
            continue
        where = loc
        if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
            where = loc + (e["ctx"]["discriminator"].strip("'"),)
        out.append(_join(name(raw, where), _message(e, model, loc)))
    return out


def _split(key: str | None) -> tuple:
    return tuple(key.split(".")) if key else ()


def _join(key: str, message: str) -> str:
    return f"{key}: {message}" if key else message


def _message(e: dict, model, loc: tuple) -> str:
    """The words for one pydantic error: what was expected, and what was given."""
    kind = e["type"]
    given = e.get("input")
    got = f", got {_short(given)}"
    field, annotation, parent = _field_at(model, loc)
    if kind == "missing":
        help_ = field.description if field is not None and field.description else ""
        return "required" + (f" ({help_})" if help_ else "")
    if kind == "extra_forbidden":
        model_ = isinstance(parent, type) and issubclass(parent, BaseModel)
        known = list(parent.model_fields) if model_ else []
        head = getattr(parent, "unknown_key", "unknown setting") if model_ else "unknown setting"
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return f"{head} ({hint}known here: {', '.join(known)})" if known else head
    if kind == "setting":
        return f"must be {e['ctx']['expected']}{got}"
    if kind == "union_tag_invalid":
        tags = [t.strip().strip("'") for t in e["ctx"]["expected_tags"].split(",")]
        tag = str(e["ctx"]["tag"])
        close = difflib.get_close_matches(tag, tags, n=1)
        what = e["ctx"]["discriminator"].strip("'")
        hint = f"did you mean {close[0]}? " if close else ""
        return f"unknown {what} {tag!r} ({hint}known: {', '.join(tags)})"
    if kind == "union_tag_not_found":
        return "required"
    if kind == "value_error":
        return str(e["msg"]).removeprefix("Value error, ")
    expected = _expected(kind, field, annotation, e)
    return f"must be {expected}{got}" if expected else f"{e['msg'][0].lower()}{e['msg'][1:]}{got}"


def _bounds(field, annotation) -> tuple:
    lo = hi = None
    strict_lo = strict_hi = False
    meta = list(getattr(field, "metadata", []) or [])
    if typing.get_origin(annotation) is Annotated:
        meta += list(typing.get_args(annotation)[1:])
    for m in meta:
        if isinstance(m, Ge):
            lo = m.ge
        elif isinstance(m, Gt):
            lo, strict_lo = m.gt, True
        elif isinstance(m, Le):
            hi = m.le
        elif isinstance(m, Lt):
            hi, strict_hi = m.lt, True
    return lo, hi, strict_lo, strict_hi


def _range_words(lo, hi, strict_lo=False, strict_hi=False) -> str:
    if lo is not None and hi is not None and not strict_lo and not strict_hi:
        return f"between {lo:g} and {hi:g}"
    parts = []
    if lo is not None:
        parts.append(f"{'>' if strict_lo else '>='} {lo:g}")
    if hi is not None:
        parts.append(f"{'<' if strict_hi else '<='} {hi:g}")
    return " and ".join(parts)


def _expected(kind: str, field, annotation, e: dict) -> str | None:
    lo, hi, slo, shi = _bounds(field, annotation)
    limits = _range_words(lo, hi, slo, shi)
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        if not limits:
            ctx = e.get("ctx") or {}
            limits = _range_words(ctx.get("ge", ctx.get("gt")), ctx.get("le", ctx.get("lt")),
                                  "gt" in ctx, "lt" in ctx)
        return limits
    if kind.startswith("int_"):
        return "a whole number" + (f" {limits}" if limits else "")
    if kind.startswith("float_"):
        return "a number" + (f" {limits}" if limits else "")
    if kind.startswith("bool_"):
        return "true or false"
    if kind.startswith("string_"):
        return "a text"
    if kind == "literal_error":
        choices = _literal_choices(annotation)
        if choices:
            return "one of " + ", ".join(map(str, choices))
        return None
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        inner = _unwrap(annotation)
        return getattr(inner, "expected", "a mapping of settings") if isinstance(inner, type) else \
            "a mapping of settings"
    if kind in ("list_type", "tuple_type"):
        return "a list"
    return None


# ------------------------------------------------------------------ walking the models
def _unwrap(annotation):
    """Strip Annotated and Optional: the type a value is checked against."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
            else:
                return annotation
        else:
            return annotation


def _literal_choices(annotation) -> tuple:
    a = _unwrap(annotation)
    if typing.get_origin(a) is Literal:
        return typing.get_args(a)
    return ()


def _union_member(annotation, tag):
    """The model of a discriminated union whose Literal tag field equals ``tag``."""
    for member in typing.get_args(annotation):
        member = _unwrap(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            for f in member.model_fields.values():
                if tag in _literal_choices(f.annotation):
                    return member
    return None


def _field_at(model, loc: tuple):
    """(FieldInfo or None, annotation, the model holding the last key) for a pydantic error location."""
    current: Any = model
    field = None
    parent = model
    for part in loc:
        current = _unwrap(current)
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            parent = current
            field = current.model_fields.get(part) if isinstance(part, str) else None
            current = field.annotation if field is not None else None
            continue
        if origin in (list, tuple) and isinstance(part, int):
            args = typing.get_args(current)
            current, field = (args[0] if args else None), None
        elif origin is dict:
            args = typing.get_args(current)
            current, field = (args[1] if len(args) == 2 else None), None
        elif origin in (Union, types.UnionType) and isinstance(part, str):
            current = _union_member(current, part)
        else:
            return None, None, parent
    return field, current, parent


# ------------------------------------------------------------------ documentation
def _expect_text(annotation, field=None) -> str | None:
    """The words of an :class:`Expect` on a field or anywhere in its annotation (Optional included)."""
    for m in getattr(field, "metadata", None) or []:
        if isinstance(m, Expect):
            return m.text
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        for m in typing.get_args(annotation)[1:]:
            if isinstance(m, Expect):
                return m.text
        return _expect_text(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        for a in typing.get_args(annotation):
            if a is not type(None):
                text = _expect_text(a)
                if text:
                    return text
    return None


def type_words(annotation, field=None) -> str:
    """A short description of what a key accepts (used by :func:`describe`)."""
    optional = type(None) in typing.get_args(annotation)
    words = _expect_text(annotation, field)
    base = _unwrap(annotation)
    if words:
        pass
    elif base is bool:
        words = "true | false"
    elif base in (int, float):
        lo, hi, slo, shi = _bounds(field, annotation)
        limits = _range_words(lo, hi, slo, shi)
        words = ("whole number" if base is int else "number") + (f" {limits}" if limits else "")
    elif base is str:
        words = "text"
    elif typing.get_origin(base) is Literal:
        words = " | ".join(map(str, typing.get_args(base)))
    elif typing.get_origin(base) in (list, tuple):
        args = typing.get_args(base)
        words = f"list of {type_words(args[0]) if args else 'values'}"
    elif typing.get_origin(base) is dict:
        args = typing.get_args(base)
        words = f"mapping of {type_words(args[0])} to {type_words(args[1])}" if len(args) == 2 else "mapping"
    elif isinstance(base, type) and issubclass(base, BaseModel):
        words = "mapping"
    else:
        words = str(base).replace("typing.", "")
    return f"{words}, or empty" if optional else words


def _default_words(field) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "(required)"
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, BaseModel):
        return ""
    return repr(value)


def describe(model: type[BaseModel], prefix: str = "", fields=None) -> list[tuple[str, str, str, str]]:
    """(key, type, default, meaning) for every key of ``model`` (or of its ``fields``), nested models
    expanded (``table.bands[].rate`` for a list of models)."""
    rows = []
    names = fields if fields is not None else list(model.model_fields)
    for name in names:
        field = model.model_fields[name]
        key = prefix + name
        base = _unwrap(field.annotation)
        if isinstance(base, type) and issubclass(base, BaseModel):
            rows += describe(base, key + ".")
            continue
        item = _unwrap(typing.get_args(base)[0]) if typing.get_origin(base) is list and typing.get_args(base) else None
        if isinstance(item, type) and issubclass(item, BaseModel):
            rows.append((key, "list", _default_words(field), field.description or ""))
            rows += describe(item, key + "[].")
            continue
        rows.append((key, type_words(field.annotation, field), _default_words(field), field.description or ""))
    return rows
