"""The build tier's builder for ``deployment=zappa``: the project's own ``make build`` (``zappa package``).

As the SAM builder: in the project's cached environment, which holds Zappa
(its uv.lock pins it) and the runtime's Python that packs, uv offline when
its cache has Lambda's wheels. The package is the zip Zappa wrote,
unpacked by ``make build`` as Lambda's ``/var/task`` holds it; its handler is
Zappa's, ``handler.lambda_handler``, so every event of the build tier goes
through Zappa's handler and the settings module it wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from tests.combinations import Combination
from tests.support import IDENTITY_PACKAGE, find_python, project_env, render_project, run_offline_first

if TYPE_CHECKING:
    from tests.build_support import Artifact

# Zappa's handler sets STAGE to the stage the package was built for, so the
# package is built for a stage named like the build tier's local stage
# (LocalStage(..., "build")): a stage the test adds, extending dev.
BUILD_STAGE = "build"
HANDLER = "handler.lambda_handler"


def add_stage(project: Path, stage: str) -> None:
    settings_file = project / "zappa_settings.json"
    settings = json.loads(settings_file.read_text(encoding="utf-8"))
    settings[stage] = {"extends": "dev"}
    settings_file.write_text(json.dumps(settings, indent=4), encoding="utf-8")


def build_with_zappa(combination: Combination, workdir: Path) -> Artifact:
    """Render the project and run its ``make build`` with the pinned Zappa."""
    # Imported here: build_support imports this module.
    from tests.build_support import Artifact, _check, runtime_sdk

    version = combination["python_version"]
    project = render_project(combination, workdir)
    add_stage(project, BUILD_STAGE)
    env = project_env(project, version)
    sdk = runtime_sdk(project, env.python)
    built = _check(
        run_offline_first(["make", "build", f"STAGE={BUILD_STAGE}"], cwd=project, env=env.environ()),
        "make build",
    )
    # Where the project's runtime-sdk target would put it, so `make invoke` finds it.
    (project / ".zappa" / "runtime-sdk").symlink_to(sdk, target_is_directory=True)
    code = project / ".zappa" / "package"
    # The migrations run in the API's own function (`zappa invoke`): the same code, migrate.py's handler.
    others = (
        {"MigrateFunction": (code, f"{IDENTITY_PACKAGE}.migrate.handler")}
        if combination["storage"] == "rds"
        else {}
    )
    return Artifact(
        combination=combination,
        project=project,
        code=code,
        handler=HANDLER,
        python=find_python(version),
        runtime_sdk=sdk,
        others=others,
        steps={"make build": built.seconds},
    )
