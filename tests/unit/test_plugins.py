"""sgfdw.hooks.plugins.load_plugin, which every registry of sgfdw.hooks (mount handlers,
external object handlers, Splitfile commands) uses to import what its entries name."""
from __future__ import annotations

import pytest

from sgfdw.errors import FdwError
from sgfdw.hooks.external_objects import ExternalObjectHandler
from sgfdw.hooks.mount_handlers import MountHandler
from sgfdw.hooks.plugins import load_plugin
from sgfdw.splitfile.errors import PluginError


def test_loads_a_class_or_an_instance():
    assert load_plugin("external object handler", "base",
                       "sgfdw.hooks.external_objects.ExternalObjectHandler",
                       ExternalObjectHandler) is ExternalObjectHandler
    import sgfdw.postgres
    assert load_plugin("mount handler", "postgres_fdw", "sgfdw.postgres.MOUNT_HANDLER",
                       MountHandler, instance=True) is sgfdw.postgres.MOUNT_HANDLER


@pytest.mark.parametrize("target, instance, sqlstate, words", [
    ("no.such.module.Thing", False, "58000", 'mount handler "x" cannot be loaded'),
    ("sgfdw.postgres.NoSuchName", True, "58000", "AttributeError"),
    ("sgfdw.hooks.mount_handlers.MountHandler", True, "42809",
     "is not a sgfdw.hooks.mount_handlers.MountHandler"),
    ("sgfdw.postgres.MOUNT_HANDLER", False, "42809",
     "does not extend sgfdw.hooks.mount_handlers.MountHandler"),
])
def test_errors_name_the_plugin_and_have_a_sqlstate(target, instance, sqlstate, words):
    with pytest.raises(FdwError) as error:
        load_plugin("mount handler", "x", target, MountHandler, instance=instance)
    assert error.value.sqlstate == sqlstate and words in str(error.value)
    assert target in str(error.value)


def test_errors_are_raised_as_the_registry_asks():
    with pytest.raises(PluginError) as error:
        load_plugin("Splitfile command", "X", "sgfdw.errors.FdwError", ExternalObjectHandler,
                    error=PluginError)
    assert error.value.sqlstate == "42809"
