"""A test FDW that checks its options when they are written (validate_options).

    CREATE SERVER v FOREIGN DATA WRAPPER sgfdw OPTIONS (wrapper 'validating.ValidatingFdw');

Each context accepts the names in VALID; validate_options reports every call as a
NOTICE (as recording.RecordingFdw does) so the tests see which contexts were asked.
import_schema describes one table `imported` whose table options are the IMPORT
statement's options, so an IMPORT with a bad option makes a table with a bad option.
"""

from __future__ import annotations

import json

from multicorn import ColumnDefinition, ForeignDataWrapper, TableDefinition
from multicorn.utils import INFO, log_to_postgres
from sgfdw.errors import OptionError

RECORD_PREFIX = "sgfdw-record "

VALID = {
    "server": {"host", "port"},
    "user_mapping": {"user", "password"},
    "table": {"table_name"},
    "column": {"column_name"},
}


class ValidatingFdw(ForeignDataWrapper):
    @classmethod
    def validate_options(cls, context, options):
        log_to_postgres(RECORD_PREFIX + json.dumps(
            {"method": "validate_options", "context": context, "options": options}), INFO)
        for name in options:
            if name not in VALID[context]:
                raise OptionError(f'invalid option "{name}"',
                                  hint="Valid options in this context are: "
                                       + ", ".join(sorted(VALID[context])))

    @classmethod
    def import_schema(cls, schema, srv_options, options, restriction_type, restricts):
        return [TableDefinition("imported", columns=[ColumnDefinition("id", type_name="int")],
                                options=options)]

    def execute(self, quals, columns):
        yield {"id": 1}
