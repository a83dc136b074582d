"""The Splitfile that rebuilds an image: the provenance of each step from the image
back to its FROM (or the repository's empty image), in order. Every image reference in
it is a hash and a mount's secrets are ${PARAMETERS}, so building it (with those
parameters) gives the same image hashes -- except after a plugin step whose hash was
random (neither calc_hash nor execute returned one)."""
from __future__ import annotations

from sgfdw.splitfile.errors import SplitfileError
from sgfdw.store import images, meta
from sgfdw.store.names import Repository

__all__ = ["provenance"]


def provenance(repo: Repository, reference: str | None) -> str:
    image_hash: str | None = images.resolve(repo, reference)
    by_hash = {image.image_hash: image for image in meta.images(repo)}
    steps = []
    while image_hash is not None and image_hash != meta.ZERO_HASH:
        image = by_hash[image_hash]
        recorded = image.provenance or {}
        if "splitfile" not in recorded:
            raise SplitfileError(
                f"image {image_hash[:12]} of {repo} was not built by a Splitfile "
                f"(made by {recorded.get('command', 'an unknown command')})",
                sqlstate="55000",
                hint="Only images built by sgfdw.build() and their Splitfile ancestors "
                     "have a recipe.")
        steps.append(recorded["splitfile"])
        if recorded.get("random_hash"):
            steps.append(f"# {image_hash[:12]}: a random hash (the plugin returned none); "
                         "a rebuild of the next line makes a new image")
        image_hash = image.parent_id
    return "".join(step + "\n" for step in reversed(steps))
