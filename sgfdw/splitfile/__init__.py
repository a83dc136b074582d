"""Splitfiles: recipes that build images of the object store step by step (parser,
hashes, executor, provenance); see README.md."""
