"""Reading configuration files into strict models, with errors that name the file and field."""

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from footfall.core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file.

    Raises:
        ConfigError: the file cannot be read or is not YAML.
    """
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


def error_location(err: Any, *, empty: str = "(top level)") -> str:
    """Where one pydantic error is, as a dotted path (`doors.0.id`).

    Args:
        err: one item of `ValidationError.errors()`.
        empty: what to name the whole input when the error has no location.
    """
    return ".".join(str(p) for p in err["loc"]) or empty


def problem(err: Any, *, empty: str = "(top level)") -> str:
    """One pydantic error as `where: what` (without pydantic's `Value error, ` prefix)."""
    return f"{error_location(err, empty=empty)}: {err['msg'].removeprefix('Value error, ')}"


def format_errors(exc: ValidationError, *, empty: str = "(top level)") -> list[str]:
    """Every error of a pydantic `ValidationError` as `where: what`, one string each.

    The one formatter of validation errors in Footfall: configuration files, settings,
    payloads, device pushes and API bodies all name the broken field the same way.

    Args:
        exc: the validation error.
        empty: what to name the whole input when an error has no location.
    """
    return [problem(e, empty=empty) for e in exc.errors(include_url=False, include_input=False)]


def validate(model: type[M], data: object, *, source: str) -> M:
    """Validate parsed data against a model.

    Raises:
        ConfigError: one line per broken rule, each naming the field.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {line}" for line in format_errors(exc)]
        raise ConfigError(f"{source}: {len(lines)} problem(s):\n" + "\n".join(lines)) from None
