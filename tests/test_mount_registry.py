"""The mount handler registry (sgfdw.hooks.mount_handlers) without a server: it knows
no particular wrapper (each wrapper exports its own handler, imported when first asked
for), and reads SGFDW_CONFIG when first used, not when imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _run(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120)


def test_registry_imports_no_wrapper_until_asked():
    result = _run("""
        import sys
        import sgfdw.hooks.mount_handlers as handlers
        assert handlers.get_mount_handlers() == ["postgres_fdw", "sqlalchemy"]
        assert not any(name.startswith(("sgfdw.postgres", "sgfdw.sqlalchemy"))
                       for name in sys.modules), sorted(sys.modules)
        handler = handlers.get_mount_handler("Postgres_FDW")
        import sgfdw.postgres
        assert handler is sgfdw.postgres.MOUNT_HANDLER
        assert "sgfdw.sqlalchemy" not in sys.modules
    """)
    assert result.returncode == 0, result.stderr


def test_config_read_on_first_use_not_at_import(tmp_path):
    config = tmp_path / "sgfdw.ini"
    config.write_text("[mount_handlers]\nMine = mypackage.MyFdw\n")
    result = _run(f"""
        import os
        import sgfdw.hooks.mount_handlers as handlers
        os.environ["SGFDW_CONFIG"] = {str(config)!r}
        handler = handlers.get_mount_handler("mine")
        assert handler.wrapper == "mypackage.MyFdw", handler
        assert handlers.get_mount_handlers() == ["mine", "postgres_fdw", "sqlalchemy"]
    """)
    assert result.returncode == 0, result.stderr


def test_unreadable_config_is_an_error_when_used_not_at_import(tmp_path):
    result = _run(f"""
        import os
        os.environ["SGFDW_CONFIG"] = {str(tmp_path / "missing.ini")!r}
        import sgfdw.hooks.mount_handlers as handlers
        from sgfdw.errors import OptionError
        try:
            handlers.get_mount_handlers()
        except OptionError as exc:
            assert exc.sqlstate == "HV00D" and "missing.ini" in str(exc), exc
        else:
            raise AssertionError("no error")
    """)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name,wrapper", [("postgres_fdw", "sgfdw.postgres.PostgresFdw"),
                                          ("sqlalchemy", "sgfdw.sqlalchemy.SqlAlchemyFdw")])
def test_each_wrapper_exports_its_handler(name, wrapper):
    from sgfdw.hooks.mount_handlers import get_mount_handler

    handler = get_mount_handler(name)
    assert (handler.name, handler.wrapper) == (name, wrapper)
