"""A test FDW for IMPORT FOREIGN SCHEMA with hostile table and column names.

    CREATE SERVER imp FOREIGN DATA WRAPPER sgfdw OPTIONS (wrapper 'importer.ImporterFdw');
    IMPORT FOREIGN SCHEMA remote FROM SERVER imp INTO local;

import_schema records its arguments (as recording.RecordingFdw records calls: a NOTICE
with a JSON object) and describes TABLES, honouring LIMIT TO / EXCEPT itself. Each
imported table gets the options `table` = its name and `remote_schema`, and a scan yields
the one row (1, <table name>, '1') for its columns (id int, "na""me;" text, "ünï" text).
"""

from __future__ import annotations

import json

from multicorn import ColumnDefinition, ForeignDataWrapper, TableDefinition
from multicorn.utils import INFO, log_to_postgres

RECORD_PREFIX = "sgfdw-record "

TABLES = [
    "plain",
    'we"ird;name',
    "it's",
    "ünï 表",
    "drop table x; --",
    "MixedCase",
]

COLUMNS = [
    ("id", "integer"),
    ('na"me;', "text"),
    ("ünï", "text"),
]


class ImporterFdw(ForeignDataWrapper):
    def __init__(self, options, columns):
        super().__init__(options, columns)
        self.table = options["table"]
        self.column_names = list(columns)

    @classmethod
    def import_schema(cls, schema, srv_options, options, restriction_type, restricts):
        log_to_postgres(RECORD_PREFIX + json.dumps({
            "method": "import_schema", "schema": schema, "srv_options": srv_options,
            "options": options, "restriction_type": restriction_type,
            "restricts": list(restricts)}), INFO)
        names = TABLES
        if restriction_type == "limit":
            names = [name for name in TABLES if name in restricts]
        elif restriction_type == "except":
            names = [name for name in TABLES if name not in restricts]
        return [
            TableDefinition(
                name, schema=schema,
                columns=[ColumnDefinition(col, type_name=type_name) for col, type_name in COLUMNS],
                options={"table": name, "remote_schema": schema})
            for name in names
        ]

    def execute(self, quals, columns):
        values = {"id": 1, 'na"me;': self.table, "ünï": "1"}
        yield [values.get(name) for name in self.column_names]
