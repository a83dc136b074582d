"""Images and tags of a repository: creating a repository, naming and finding images,
listing the history, removing a repository.

An image reference is a tag, `latest` (the newest image), `HEAD` (the checked-out
one), a full hash, or a unique prefix of at least 8 hex digits; tags win over prefixes.
"""
from __future__ import annotations

import re
import secrets
from typing import Any, Iterator

from sgfdw import pg
from sgfdw.store import meta
from sgfdw.store.errors import AmbiguousReference, NotFound, StoreError
from sgfdw.store.names import Repository, check_tag

__all__ = ["new_image_hash", "resolve", "ensure_exists", "init", "tag", "log", "rm",
           "add_image"]

_PREFIX = re.compile(r"[0-9a-f]{8,64}\Z")
_HINT_ITEMS = 10


def new_image_hash() -> str:
    return secrets.token_hex(32)


def _short_list(items: list[str]) -> str:
    shown = ", ".join(items[:_HINT_ITEMS])
    return shown + (f" and {len(items) - _HINT_ITEMS} more" if len(items) > _HINT_ITEMS else "")


def ensure_exists(repo: Repository) -> list[meta.Image]:
    """The repository's images, newest first; 42704 if it has none."""
    found = meta.images(repo)
    if found:
        return found
    known = [f"{namespace}/{repository}" for namespace, repository in pg.execute(
        "SELECT DISTINCT namespace, repository FROM splitgraph_meta.images ORDER BY 1, 2")]
    raise NotFound(f"repository {repo} does not exist",
                   hint=("Known repositories: " + _short_list(known)) if known
                   else "Create one with sgfdw.init('namespace/repository').")


def resolve(repo: Repository, reference: str | None) -> str:
    """The hash of the image a reference names in the repository."""
    found = ensure_exists(repo)
    reference = reference or "latest"
    if reference == "latest":
        return found[0].image_hash
    tags = {tag: image_hash for image_hash, names in meta.tags_of(repo).items()
            for tag in names}
    if reference in tags:
        return tags[reference]
    if _PREFIX.match(reference.lower()):
        matches = [i.image_hash for i in found if i.image_hash.startswith(reference.lower())]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise AmbiguousReference(
                f"image prefix {reference!r} matches {len(matches)} images of {repo}",
                hint="Give more digits: " + _short_list(matches))
    user_tags = sorted(tag for tag in tags if tag != "HEAD")
    raise NotFound(
        f"image {reference!r} not found in repository {repo}",
        hint="Use latest, HEAD, a hash or prefix of 8+ hex digits"
             + (", or a tag: " + _short_list(user_tags) if user_tags else "") + ".")


def add_image(repo: Repository, parent_id: str | None, comment: str | None,
              provenance: dict[str, Any], versions: list[meta.TableVersion],
              image_hash: str | None = None) -> str:
    """A new image holding these table versions; its hash (random unless given: a
    Splitfile build derives it from the steps)."""
    image_hash = image_hash or new_image_hash()
    meta.add_image(repo, image_hash, parent_id, comment, provenance)
    for version in versions:
        meta.add_table_version(repo, image_hash, version)
    return image_hash


def init(repo: Repository) -> str:
    meta.lock_repository(repo)
    if meta.images(repo):
        raise StoreError(f"repository {repo} already exists", sqlstate="42710",
                         hint="Remove it with sgfdw.rm() first, or use another name.")
    pg.execute(f"CREATE SCHEMA {pg.quote_ident(repo.schema)}")
    meta.add_image(repo, meta.ZERO_HASH, None, "empty image", {"command": "init"})
    meta.set_tag(repo, meta.ZERO_HASH, "HEAD")
    return meta.ZERO_HASH


def tag(repo: Repository, reference: str, name: str) -> None:
    meta.set_tag(repo, resolve(repo, reference), check_tag(name))


def log(repo: Repository) -> Iterator[tuple]:
    """(image_hash, parent_id, created, comment, tags, provenance), newest first."""
    found = ensure_exists(repo)
    tags = meta.tags_of(repo)
    for image in found:
        yield (image.image_hash, image.parent_id, image.created, image.comment,
               tags.get(image.image_hash, []), image.provenance)


def rm(repo: Repository) -> None:
    """The repository's metadata and schema; its objects stay until sgfdw.cleanup()."""
    ensure_exists(repo)
    meta.lock_repository(repo)
    meta.delete_repository(repo)
    pg.execute(f"DROP SCHEMA IF EXISTS {pg.quote_ident(repo.schema)} CASCADE")
