"""Splitfile plugin commands: the API of splitgraph.hooks.splitfile_commands.

A command name the Splitfile grammar does not know (FROM, IMPORT, SQL) is looked up
here: classes registered with register_command(), or named in the [commands] section
of the INI file that SGFDW_CONFIG names (`NAME = package.module.Class`, read when the
registry is first used). The class extends PluginCommand and is instantiated at every
invocation. Flow (sgfdw.splitfile.build runs it):

* calc_hash(repository, args) runs first. A 64-hex-digit command context hash is
  combined with the current image hash into the new image hash: if that image exists
  it is checked out and execute() is not called.
* Otherwise (or if calc_hash is not overridden or returns None) execute(repository,
  args) runs. If it returns a hash, that is the new image's hash (an existing image
  with it is checked out instead); if both return None, the new hash is random.

`repository` (BuildRepository) points at the schema holding the checked-out image;
while the plugin runs, the search_path is that schema, so the unqualified statements
it runs through `sgfdw.engine.get_engine().run_sql(...)` resolve there. A plugin may
read splitgraph_meta and must not change versioning (commit, checkout, tags): the
build commits what execute() left in the schema.
"""
from __future__ import annotations

import configparser
import os
from dataclasses import dataclass

from sgfdw.errors import OptionError
from sgfdw.hooks.mount_handlers import CONFIG_VARIABLE
from sgfdw.hooks.plugins import load_plugin
from sgfdw.splitfile.errors import PluginError
from sgfdw.splitfile.parser import BUILTIN_COMMANDS

__all__ = ["PluginCommand", "BuildRepository", "register_command", "get_command",
           "get_command_names", "load_commands_config"]


@dataclass(frozen=True)
class BuildRepository:
    """The repository being built, as a plugin sees it."""

    namespace: str
    repository: str
    image_hash: str  # the image checked out in the schema (the parent of the new one)

    def to_schema(self) -> str:
        """The schema holding the checked-out image (Splitgraph's name for it)."""
        return f"{self.namespace}/{self.repository}"

    def __str__(self) -> str:
        return self.to_schema()


class PluginCommand:
    """Base class of Splitfile plugin commands."""

    def calc_hash(self, repository: BuildRepository, args: list[str]) -> str | None:
        """The command context hash (64 hex digits) if the command's effect can be
        known before running it (then two commands with the same context hash are
        taken to do the same thing to an image), else None."""
        return None

    def execute(self, repository: BuildRepository, args: list[str]) -> str | None:
        """Changes the tables of repository.to_schema(); returns the new image's hash,
        or None."""
        raise NotImplementedError


# name (upper case) -> a PluginCommand subclass, or the dotted name of one not imported
# yet. None until first use, when the configuration file fills it.
_COMMANDS: dict[str, type[PluginCommand] | str] | None = None


def _registry() -> dict[str, type[PluginCommand] | str]:
    global _COMMANDS
    if _COMMANDS is None:
        path = os.environ.get(CONFIG_VARIABLE)
        _COMMANDS = _config_commands(path) if path else {}
    return _COMMANDS


def _config_commands(path: str) -> dict[str, type[PluginCommand] | str]:
    parser = configparser.ConfigParser()
    if not parser.read(path):
        raise OptionError(f"cannot read the plugin configuration {path!r}")
    section = parser.items("commands") if parser.has_section("commands") else []
    return {name.upper(): target.strip() for name, target in section}


def register_command(name: str, command_class: type[PluginCommand]) -> None:
    """Makes a plugin class the command `name` (any case) of Splitfiles."""
    if not name or not name.replace("_", "a").isalnum() or name[0].isdigit():
        raise OptionError(f"invalid Splitfile command name {name!r}",
                          hint="A command name is a letter or '_' then letters, digits, '_'.")
    if name.upper() in BUILTIN_COMMANDS:
        raise OptionError(f"{name.upper()} is a Splitfile command of its own",
                          hint="Give the plugin another name.")
    if not (isinstance(command_class, type) and issubclass(command_class, PluginCommand)):
        raise OptionError(f"Splitfile command {name}: {command_class!r} does not extend "
                          "sgfdw.hooks.splitfile_commands.PluginCommand")
    _registry()[name.upper()] = command_class


def load_commands_config(path: str) -> list[str]:
    """Registers the commands of an INI file's [commands] section; their names."""
    commands = _config_commands(path)
    _registry().update(commands)
    return sorted(commands)


def get_command_names() -> list[str]:
    return sorted(_registry())


def get_command(name: str) -> type[PluginCommand]:
    """The class of a plugin command (imported on first use)."""
    registry = _registry()
    entry = registry.get(name.upper())
    if entry is None:
        raise PluginError(f"unknown Splitfile command {name}", sqlstate="42601",
                          hint="Known plugin commands: "
                               + (", ".join(get_command_names()) or "none") + ".")
    if isinstance(entry, str):
        entry = registry[name.upper()] = load_plugin("Splitfile command", name, entry,
                                                      PluginCommand, error=PluginError)
    return entry
