"""Policies named in a scenario: at a decision point, a built-in kind or a researcher's class.

A decision point's key takes ``{kind: NAME, params: {...}}``. ``NAME`` is one of the point's
built-in kinds (today's behaviour is the default), or ``module:Class``: a class a researcher
wrote against the point's documented interface (``simcore.policies``). The module is imported
as Python imports it, or else from the directory of the scenario file that names it, so a
researcher's ``my_policies.py`` can sit next to ``my_scenario.yaml``. Validation imports it,
checks that the class has the interface's methods and that ``Class(**params)`` builds (the class
may refuse values), and reports a problem at the key like any other, before anything runs.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

from pydantic import Field, ValidationInfo, model_validator

from simcore.scenario.schema.common import FrozenModel


class PolicySpec(FrozenModel):
    """A decision point's policy: ``kind`` (built in, or ``module:Class``) and its ``params``.

    Subclasses name the point's built-in kinds (:attr:`KINDS`, with the parameters each takes)
    and the methods a researcher's class must have (:attr:`METHODS`).
    """

    #: Built-in kinds and the parameter names each accepts.
    KINDS: ClassVar[dict[str, frozenset[str]]] = {}
    #: Methods a researcher's class must define.
    METHODS: ClassVar[tuple[str, ...]] = ()

    kind: str = Field(description="A built-in kind, or module:Class (a researcher's policy).")
    params: dict[str, Any] = Field(default_factory=dict, description="The policy's parameters.")
    search_path: str | None = Field(
        None,
        description=(
            "Set by validation: the folder a module:Class's module was found in (on Python's path "
            "or the scenario file's folder), where worker processes look when their path lacks it."
        ),
    )

    @property
    def label(self) -> str:
        """The kind as errors name it: quoted, with the folder a researcher's module came from."""
        where = f" (imported from {self.search_path})" if self.search_path else ""
        return f"{self.kind!r}{where}"

    @model_validator(mode="before")
    @classmethod
    def _resolve(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
            return data  # the field rules report what is missing or mistyped
        kind, params = data["kind"], data.get("params") or {}
        if not isinstance(params, dict):
            return data
        if ":" not in kind:
            if kind not in cls.KINDS:
                known = ", ".join(sorted(cls.KINDS))
                raise ValueError(f"kind {kind!r}: not a built-in kind ({known}) nor module:Class")
            unknown = sorted(set(params) - cls.KINDS[kind])
            if unknown:
                takes = ", ".join(sorted(cls.KINDS[kind])) or "none"
                raise ValueError(f"kind {kind!r} takes no parameter {', '.join(unknown)} (it takes: {takes})")
            return data
        base = (info.context or {}).get("base_dir") if info.context else None
        # The loader names the folder of the file that set the kind (simcore.scenario.loader).
        policy, found_in = resolve(kind, data.get("search_path") or (str(base) if base else None))
        class_name = kind.partition(":")[2]
        missing = [m for m in cls.METHODS if not callable(getattr(policy, m, None))]
        if missing:
            raise ValueError(
                f"kind {kind!r}: the class has no method {', '.join(missing)} (see simcore.policies)"
            )
        try:
            inspect.signature(policy).bind(**params)
        except (TypeError, ValueError) as exc:  # ValueError: a class without a signature
            raise ValueError(
                f"kind {kind!r}: its constructor does not take params {sorted(params)}: {exc}"
            ) from None
        try:  # built once here, so that a value the class refuses is reported before any run
            policy(**params)
        except Exception as exc:
            raise ValueError(
                f"kind {kind!r}: {class_name}(**params) failed: {type(exc).__name__}: {exc}"
            ) from None
        return {**data, "search_path": found_in}


def resolve(kind: str, search_path: str | None = None) -> tuple[type, str | None]:
    """The class named ``module:Class``, and the folder its module's top package lives in (None
    for a module without a file). The module is imported as Python imports it or, when no such
    module is on Python's path, from ``search_path``: a worker process finds a researcher's
    module where the process that validated the scenario found it.

    Raises:
        ValueError: the name is malformed, the module cannot be imported, or has no such class.
    """
    module_name, _, class_name = kind.partition(":")
    if not module_name or not class_name or ":" in class_name:
        raise ValueError(f"kind {kind!r}: a researcher's policy is named module:Class")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if search_path is None or exc.name != module_name.split(".")[0]:
            raise ValueError(f"kind {kind!r}: cannot import {module_name!r} ({exc})") from None
        folder = str(Path(search_path).resolve())
        sys.path.insert(0, folder)
        try:
            module = importlib.import_module(module_name)
        except Exception as inner:  # a researcher's module may fail any way: report, not crash
            raise ValueError(
                f"kind {kind!r}: cannot import {module_name!r} from Python's path or {folder} "
                f"({_problem(inner)})"
            ) from None
        finally:
            sys.path.remove(folder)
    except Exception as exc:
        raise ValueError(f"kind {kind!r}: cannot import {module_name!r} ({_problem(exc)})") from None
    root = _root(module, module_name)
    top = module_name.split(".")[0]
    if search_path is not None and root is not None:
        here = Path(search_path).resolve()
        # Python keeps the first module imported under a name: another folder's module of the
        # same name (two scenarios' my_rules.py) would silently be that first one.
        if Path(root) != here and ((here / f"{top}.py").exists() or (here / top).is_dir()):
            raise ValueError(
                f"kind {kind!r}: a module {top!r} was already imported from {root}, so the one in "
                f"{here} cannot be loaded in this process; give the two modules different names"
            )
    policy = getattr(module, class_name, None)
    if not isinstance(policy, type):
        raise ValueError(f"kind {kind!r}: module {module_name!r} has no class {class_name!r}")
    return policy, root


def _root(module: ModuleType, name: str) -> str | None:
    """The folder on whose path ``module`` (imported as ``name``) is found: its file's folder,
    up one level per dot in the name, and one more for a package's ``__init__``."""
    file = getattr(module, "__file__", None)
    if not file:
        return None
    spec = getattr(module, "__spec__", None)
    levels = name.count(".") + (1 if spec is not None and spec.submodule_search_locations else 0)
    return str(Path(file).resolve().parents[levels])


def _problem(exc: BaseException) -> str:
    """An import's failure in one line, with the file and line it came from (a researcher's
    module's own error, not simcore's)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f" at {exc.filename}:{exc.lineno}"
    return f"{type(exc).__name__}: {exc}{where}"
