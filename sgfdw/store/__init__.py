"""The versioned object store (Splitgraph-style): repositories of images, each a set of
table versions made of immutable, content-addressed Parquet objects.

Plain Python over sgfdw.pg; it knows nothing about FDWs. One concern per module:
names (repository names), types (PostgreSQL <-> Arrow), fragments (object ids, index,
Parquet bytes), files (the object directory), meta (splitgraph_meta), relations
(catalogs), snapshot (table -> objects), materialize (objects -> table), images
(history, tags, references), checkout (the working copy), tracking (change triggers),
status (uncommitted changes), commit, diff, cleanup, remotes (registries), sync (push /
clone / pull), cache (downloaded objects), sql_api (the SQL functions).
See README.md.
"""
