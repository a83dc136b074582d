"""The plugin command registry (sgfdw.hooks.splitfile_commands) without a server:
registering in Python, the [commands] section of the INI file SGFDW_CONFIG names (read
on first use), and classes that are not plugins refused."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sgfdw.errors import OptionError  # noqa: E402
from sgfdw.hooks import splitfile_commands  # noqa: E402
from sgfdw.hooks.splitfile_commands import PluginCommand  # noqa: E402
from sgfdw.splitfile.errors import PluginError  # noqa: E402


class Mine(PluginCommand):
    def execute(self, repository, args):
        return None


def test_register_in_python():
    splitfile_commands.register_command("mine", Mine)
    assert "MINE" in splitfile_commands.get_command_names()
    assert splitfile_commands.get_command("Mine") is Mine
    assert Mine().calc_hash(None, []) is None  # the base class: always executes


@pytest.mark.parametrize("name, value", [("", Mine), ("1x", Mine), ("a b", Mine), ("sql", Mine),
                                         ("ok", object), ("ok", Mine())])
def test_register_refuses(name, value):
    with pytest.raises(OptionError):
        splitfile_commands.register_command(name, value)


def test_config_file_commands(tmp_path):
    config = tmp_path / "sgfdw.ini"
    config.write_text("[mount_handlers]\n[commands]\nBase = "
                      "sgfdw.hooks.splitfile_commands.PluginCommand\n"
                      "broken = no.such.module.Class\nnotplugin = sgfdw.errors.FdwError\n")
    assert splitfile_commands.load_commands_config(str(config)) == ["BASE", "BROKEN",
                                                                    "NOTPLUGIN"]
    assert splitfile_commands.get_command("base") is PluginCommand
    with pytest.raises(PluginError) as error:
        splitfile_commands.get_command("broken")
    assert error.value.sqlstate == "58000" and "cannot be loaded" in str(error.value)
    with pytest.raises(PluginError, match="does not extend"):
        splitfile_commands.get_command("notplugin")
    with pytest.raises(PluginError) as error:
        splitfile_commands.get_command("nosuch")
    assert "BASE" in error.value.hint


def test_sgfdw_config_read_on_first_use(tmp_path):
    config = tmp_path / "sgfdw.ini"
    config.write_text("[commands]\nRUN = sgfdw.hooks.splitfile_commands.PluginCommand\n")
    code = ("from sgfdw.hooks import splitfile_commands as c\n"
            "print(c.get_command_names())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "SGFDW_CONFIG": str(config)},
                         check=True)
    assert out.stdout.strip() == "['RUN']"
