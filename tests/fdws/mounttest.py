"""Registers mount handlers from SQL for tests/test_mount.py (the registry lives in each
backend): SELECT register_handler('imp', 'importer.ImporterFdw')."""

from sgfdw.hooks.mount_handlers import generic_handler, register_mount_handler


def register_handler(name: str, wrapper: str) -> None:
    register_mount_handler(name, generic_handler(name, wrapper))
