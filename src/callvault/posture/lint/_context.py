"""What every check may read: the files of the tree and the environment they deploy.

The environment matters to two rules: a dev-CA certificate is a red flag only in ``prod``,
and a KMS key is "shared" only when two *different* environments reference it. The
deployment's environment is the ``--environment`` the caller gave or, failing that, the
one its configuration declares (``environment = "prod"`` in ``callvault.toml``,
``CALLVAULT_ENVIRONMENT=prod`` in an environment file). When several are declared, the most
exposed one wins (prod over staging over dev): a linter that guesses low misses the
rules that matter most.

A single file's environment is what it declares itself, else what its path says
(``.env.production``, ``deploy/staging/…``), else the deployment's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from callvault.posture.lint._files import SourceFile

__all__ = ["LintContext", "declared_environment", "normalise_environment"]

_ALIASES = {
    "prod": "prod", "production": "prod", "prd": "prod", "live": "prod",
    "staging": "staging", "stage": "staging", "stg": "staging", "preprod": "staging",
    "dev": "dev", "development": "dev", "local": "dev",
    "test": "test", "testing": "test", "qa": "test", "ci": "test",
}  # fmt: skip
_EXPOSURE = {"prod": 3, "staging": 2, "test": 1, "dev": 0}
_DECLARATION = re.compile(
    r"""^\s*(?:export\s+)?(?:CALLVAULT_ENVIRONMENT|environment|ENVIRONMENT|APP_ENV|DEPLOY_ENV)
        \s*[=:]\s*["']?([A-Za-z]+)["']?\s*(?:\#.*)?$""",
    re.VERBOSE,
)
_PATH_TOKEN = re.compile(r"[A-Za-z]+")


def normalise_environment(name: str) -> str | None:
    """``production`` -> ``prod``; ``None`` for a word that names no environment."""
    return _ALIASES.get(name.lower())


def declared_environment(source: SourceFile) -> str | None:
    """The environment a config file states about itself, if it states one."""
    if source.is_doc:
        return None
    for line in source.lines:
        match = _DECLARATION.match(line)
        if match and (env := normalise_environment(match.group(1))):
            return env
    return None


def _path_environment(rel: str) -> str | None:
    """The environment a path names (``.env.production``, ``k8s/staging/api.yaml``)."""
    parts = PurePosixPath(rel).parts
    for part in reversed(parts):  # the file's own name first, then its directories
        for token in _PATH_TOKEN.findall(part):
            if env := normalise_environment(token):
                return env
    return None


@dataclass(frozen=True, slots=True)
class LintContext:
    """The linted tree. ``environment`` is the deployment's (given or declared), or
    ``None`` when nothing says; ``root`` is what the caller named."""

    root: Path
    files: Sequence[SourceFile]
    environment: str | None
    _file_envs: dict[str, str | None] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls, root: Path, files: Sequence[SourceFile], environment: str | None = None
    ) -> LintContext:
        declared = {f.rel: declared_environment(f) for f in files}
        if environment is None:
            found = [env for env in declared.values() if env is not None]
            environment = max(found, key=_EXPOSURE.__getitem__) if found else None
        return cls(root, tuple(files), environment, declared)

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"

    def environment_of(self, source: SourceFile) -> str | None:
        """The environment of one file: declared, else named by its path, else the
        deployment's."""
        return self._file_envs.get(source.rel) or _path_environment(source.rel) or self.environment

    def config_files(self) -> tuple[SourceFile, ...]:
        """Every file read as configuration or code (all but prose)."""
        return tuple(f for f in self.files if not f.is_doc)
