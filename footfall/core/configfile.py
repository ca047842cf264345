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


def problem(err: Any) -> str:
    """One pydantic error as `where: what`."""
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    return f"{where}: {err['msg'].removeprefix('Value error, ')}"


def validate(model: type[M], data: object, *, source: str) -> M:
    """Validate parsed data against a model.

    Raises:
        ConfigError: one line per broken rule, each naming the field.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {problem(e)}" for e in exc.errors(include_url=False, include_input=False)]
        raise ConfigError(f"{source}: {len(lines)} problem(s):\n" + "\n".join(lines)) from None
