"""An FDW over a table of the same database, read through sgfdw.pg (tests/test_pg_module.py).

LocalTableFdw  options: `table` (the local table to read, required), `batch_size`
               (sgfdw.pg cursor batch, default 100), `log_table` (if set, each scan
               inserts a row (quals text) into it, through sgfdw.pg). Quals `col = value`
               are pushed down as bound parameters ($n), never pasted into the SQL.
"""

from __future__ import annotations

from multicorn import ForeignDataWrapper

from sgfdw import pg


class LocalTableFdw(ForeignDataWrapper):
    def __init__(self, options, columns):
        super().__init__(options, columns)
        self.table = options["table"]
        self.batch_size = int(options.get("batch_size", "100"))
        self.log_table = options.get("log_table")
        self.columns = list(columns)

    def execute(self, quals, columns, **kwargs):
        conditions, params = [], []
        for qual in quals:
            if qual.operator == "=" and qual.value is not None:  # (IS NULL is "=" None)
                params.append(qual.value)
                conditions.append(f"{pg.quote_ident(qual.field_name)} = ${len(params)}")
        sql = "SELECT {} FROM {}".format(
            ", ".join(pg.quote_ident(c) for c in self.columns), pg.quote_ident(self.table))
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        if self.log_table:
            pg.execute(f"INSERT INTO {pg.quote_ident(self.log_table)} VALUES ($1)",
                       [" AND ".join(conditions)])
        with pg.cursor(sql, params, self.batch_size) as rows:
            for row in rows:
                yield dict(zip(self.columns, row))
