"""The registry of external object handlers: the S3 seed, register_upload_download_handler
and the [external_handlers] section of the INI file SGFDW_CONFIG names (pure Python)."""
from __future__ import annotations

import pytest

from sgfdw.errors import FdwError
from sgfdw.hooks import external_objects
from sgfdw.hooks.external_objects import (ExternalObjectHandler, get_external_object_handler,
                                          register_upload_download_handler)


class CopyHandler(ExternalObjectHandler):
    def upload_objects(self, objects, remote_engine):
        return [(object_id, f"copy://{object_id}") for object_id in objects]

    def download_objects(self, objects, remote_engine):
        return [object_id for object_id, _ in objects]


class NotAHandler:
    pass


@pytest.fixture
def fresh_registry(monkeypatch, tmp_path):
    """The registry as first used in a backend whose SGFDW_CONFIG names this INI file."""
    config = tmp_path / "sgfdw.ini"
    config.write_text("[mount_handlers]\nother = x.Y\n\n[external_handlers]\n"
                      f"Copy = {__name__}.CopyHandler\nwrong = {__name__}.NotAHandler\n"
                      "missing = no_such_module.Handler\n")
    monkeypatch.setenv("SGFDW_CONFIG", str(config))
    monkeypatch.setattr(external_objects, "_HANDLERS", None)


def test_handlers_from_the_configuration_file(fresh_registry):
    assert external_objects.get_upload_download_handlers() == ["copy", "missing", "s3",
                                                               "wrong"]
    handler = get_external_object_handler("COPY", {"threads": 2})
    assert isinstance(handler, CopyHandler) and handler.params == {"threads": 2}
    assert handler.upload_objects(["o1"], None) == [("o1", "copy://o1")]
    for name, sqlstate in (("wrong", "42809"), ("missing", "58000"), ("nope", "42704")):
        with pytest.raises(FdwError) as info:
            get_external_object_handler(name)
        assert info.value.sqlstate == sqlstate, name


def test_registered_handlers(fresh_registry):
    register_upload_download_handler("mine", CopyHandler)
    assert isinstance(get_external_object_handler("mine"), CopyHandler)
    with pytest.raises(TypeError):
        ExternalObjectHandler({})  # abstract
