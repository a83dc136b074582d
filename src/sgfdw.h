/*
 * sgfdw.h
 *		Shared declarations of the C bridge between PostgreSQL and Python FDWs.
 *
 * The bridge only moves Datums, plans and control flow across the boundary; what a
 * foreign table means is decided in Python (multicorn API, sgfdw.bridge).
 */
#ifndef SGFDW_H
#define SGFDW_H

#include "postgres.h"

#include <signal.h>

#include "access/tupdesc.h"
#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "nodes/execnodes.h"
#include "nodes/plannodes.h"
#include "fmgr.h"
#include "nodes/pathnodes.h"
#include "nodes/pg_list.h"

/* Python.h redefines these; PostgreSQL's values must not leak into it. */
#undef _POSIX_C_SOURCE
#undef _XOPEN_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* ---- module.c: _PG_init, the interpreter's start in a backend ---- */
extern char *sgfdw_python;
extern char *sgfdw_python_path;
extern void sgfdw_ensure_python(void);
/* Python's id of the backend's own thread: the only one that may call PostgreSQL. */
extern unsigned long sgfdw_backend_thread;
/* Functions of the Python module sgfdw.bridge, looked up once. */
extern PyObject *sgfdw_bridge_attr(const char *name);

/* ---- settings.c: the settings for sharing images (registry's S3 store, object cache) ---- */
extern void sgfdw_define_sharing_settings(void);

/* ---- interrupts.c: PostgreSQL's cancel and terminate -> Python while it runs ---- */
extern volatile sig_atomic_t sgfdw_python_depth;
extern void sgfdw_install_interrupt_forwarding(void);
extern void sgfdw_discard_stale_interrupt(void);

/*
 * Every call into Python goes through these so that a cancel arriving while Python
 * runs is forwarded to it (and one arriving while C runs is left to PostgreSQL).
 */
#define SGFDW_ENTER_PYTHON() (sgfdw_python_depth++)
#define SGFDW_LEAVE_PYTHON() (sgfdw_python_depth--)

/* ---- pyerror.c: the pending Python exception -> ereport with a SQLSTATE ---- */
extern void sgfdw_report_python_error(int default_sqlstate, const char *context) pg_attribute_noreturn();
/* The pending exception's message (lossy, for reports), the exception cleared. */
extern char *sgfdw_exception_text(void);
/* A NULL from the Python C API means an exception is pending: reported. */
#define SGFDW_CHECK(result, context) \
	do { if ((result) == NULL) sgfdw_report_python_error(0, (context)); } while (0)

/* ---- pycall.c: calls into Python, their failure reported ---- */
/*
 * Calls obj.method(*args) / callable(*args) and reports a Python error. They take
 * over the reference to args (which may be NULL for no arguments), so a tuple built
 * in the call itself is released.
 */
extern PyObject *sgfdw_call_method(PyObject *obj, const char *method, PyObject *args,
								   PyObject *kwargs, const char *context);
extern PyObject *sgfdw_call(PyObject *callable, PyObject *args, PyObject *kwargs,
							const char *context);
/* PyObject_IsTrue with its failure reported. */
extern bool sgfdw_truth(PyObject *obj, const char *context);
/* method(offered) of an opt-in hook, as a bool; both references taken over. */
extern bool sgfdw_accepts(PyObject *method, PyObject *args, const char *context);
extern PyObject *sgfdw_optional_attr(PyObject *obj, const char *name);
extern bool sgfdw_optional_flag(PyObject *obj, const char *name);

/* ---- pytext.c: Python str <-> C text ---- */
/* Python str -> C text; an encoding failure is ERROR 22021 (what names the value). */
extern const char *sgfdw_utf8(PyObject *str, Py_ssize_t *size, const char *what);
extern char *sgfdw_cstring(PyObject *str, const char *what);
/* C text -> a new reference to str (None for NULL), never NULL (or report). */
extern PyObject *sgfdw_str(const char *s);

/* ---- convert.c: Datum <-> Python, per type ---- */
typedef struct SgConverter SgConverter;
extern SgConverter *sgconv_create(Oid typoid, int32 typmod);
extern PyObject *sgconv_to_python(SgConverter *conv, Datum value, bool isnull);
extern Datum sgconv_to_datum(SgConverter *conv, PyObject *value, bool *isnull);
extern void sgconv_check_value_size(Oid typoid, int32 typmod, int64 size);
extern void sgconv_init_python(void);
/* Conversion of a value whose type is only known by its OID (plan-time constants). */
extern PyObject *sgconv_datum_to_python(Oid typoid, int32 typmod, Datum value, bool isnull);
/* Pieces of the Python -> Datum path that the Arrow reader shares. */
extern Oid	sgconv_type(SgConverter *conv, int32 *typmod);
extern Datum sgconv_from_cstring(SgConverter *conv, char *text);
extern Datum sgconv_check_domain(SgConverter *conv, Datum value, bool isnull);
extern float4 sgconv_float4(double value);

/* ---- arrow.c: rows of Arrow record batches and streams (the C data interface) ---- */
typedef struct SgArrowReader SgArrowReader;
extern bool sgarrow_is_batch(PyObject *item);
extern SgArrowReader *sgarrow_open(int ncolumns, PyObject **names,
								   SgConverter **converters, int *slot_indexes);
extern void sgarrow_load(SgArrowReader *reader, PyObject *item);
extern bool sgarrow_next_row(SgArrowReader *reader, Datum *values, bool *nulls, int *current);
extern void sgarrow_close(SgArrowReader *reader);

/* ---- row.c: a row from Python (a sequence or a mapping) -> a tuple's values ---- */
typedef enum SgRowCtid
{
	SG_ROW_CTID_NONE,			/* rows carry no ctid */
	SG_ROW_CTID_REQUIRED,		/* each row carries its ctid (a scan reading ctid) */
	SG_ROW_CTID_OPTIONAL		/* a row may carry it, else *tid is left (RETURNING) */
} SgRowCtid;

/* How to read one source's rows: which entries, where each goes, how errors name them. */
typedef struct SgRowReader
{
	int			ncolumns;		/* the target's columns: a row by position has them all */
	int			nentries;		/* the entries read from each row */
	int		   *positions;		/* per entry: its index in a row by position */
	PyObject  **keys;			/* per entry: its key in a row by name */
	SgConverter **converters;	/* per entry */
	int		   *value_indexes;	/* per entry: its index in values / nulls */
	SgRowCtid	ctid;			/* after the columns in a sequence, under 'ctid' in a mapping */
	bool		from_fdw;		/* a bad row is an FDW error (HV...), else 42804 */
	const char *source;			/* who returned the rows: "FDW", "insert()" */
	const char *target;			/* whose columns they hold: "foreign table \"t\"" */
} SgRowReader;

extern void sgrow_init_columns(SgRowReader *reader, int ncolumns, PyObject *names,
							   AttrNumber *attnums, SgConverter **converters,
							   const char *relname);
extern void sgrow_read(SgRowReader *reader, PyObject *row, Datum *values, bool *nulls,
					   ItemPointer tid, int *current);
/* A reader of an FDW's rows of computed outputs (names: a tuple of str, held by the caller). */
extern void sgrow_init_outputs(SgRowReader *reader, PyObject *names, TupleDesc desc,
							   const char *target);

/* ---- instance.c: one Python FDW instance per foreign table and user ---- */
typedef struct SgTable
{
	Oid			relid;
	Oid			userid;
	bool		valid;			/* false after an invalidation: checked on next use */
	PyObject   *instance;
	PyObject   *definition;		/* repr() of new_instance's args that built it */
	PyObject   *column_names;	/* tuple of str, in table order (dropped ones skipped) */
	int			ncolumns;
	AttrNumber *column_attnums;	/* attnum of each entry of column_names */
} SgTable;

extern SgTable *sgfdw_get_table(Oid relid);
extern void sgfdw_init_instance_cache(void);

/* ---- options.c: the options a Python FDW is given (table < server < user mapping) ---- */
extern List *sgfdw_merged_options(Oid relid, Oid serverid, bool keep_wrapper);
extern PyObject *sgfdw_options_to_dict(List *options);
extern PyObject *sgfdw_option_sources(Oid relid, Oid serverid);
extern char *sgfdw_wrapper_option(List *options);
extern char *sgfdw_wrapper_of_server(Oid serverid, List **server_options);

/* ---- quals.c: restriction clauses -> Qual objects ---- */
typedef struct SgQualDesc
{
	AttrNumber	attnum;
	char	   *opname;			/* operator name, e.g. "=", "~~" */
	int			kind;			/* SG_QUAL_* */
	int			value_index;	/* index into the list of value expressions, or -1 */
} SgQualDesc;

#define SG_QUAL_SCALAR	0		/* col op value */
#define SG_QUAL_ANY		1		/* col op ANY(array) */
#define SG_QUAL_ALL		2		/* col op ALL(array) */
#define SG_QUAL_NULL	3		/* col IS NULL */
#define SG_QUAL_NOTNULL 4		/* col IS NOT NULL */
#define SG_QUAL_BOOL	5		/* bare boolean column, or NOT column */

extern List *sgfdw_extract_quals(PlannerInfo *root, RelOptInfo *baserel, List *clauses,
								 List **values, bool *all_extracted);
extern List *sgfdw_quals_to_nodes(List *quals);
extern List *sgfdw_quals_from_nodes(List *nodes);
extern PyObject *sgfdw_make_qual(const char *colname, SgQualDesc *qual, PyObject *value);
extern void sgfdw_contradict_qual(PyObject *quals, int index, const char *colname,
								  AttrNumber attnum);
extern PyObject *sgfdw_plan_time_quals(SgTable *table, List *quals, List *values);
extern PyObject *sgfdw_sortkeys_from_nodes(SgTable *table, List *nodes);

/* ---- expression.c: planner expressions -> sgfdw.expression trees ---- */
/* The relations whose columns a tree reads: Column.relation i is varnos[i]. */
typedef struct SgExpressionScope
{
	List	   *varnos;			/* IntList: range table index of relation 0, 1, ... */
	List	   *relids;			/* OidList: their relations (for column names) */
	List	   *outputs;		/* an aggregation's scan targetlist (HAVING): what is one
								 * of its entries is an Output at its position; NIL: none */
} SgExpressionScope;

/*
 * The values of trees (subtrees reading no relation of the scope, not volatile, without
 * subplans), met in a fixed walk order. Planning: evaluated NULL, each value subtree is
 * appended to exprs (put them in fdw_exprs) and is a Constant if it is a Const, else a
 * Parameter. Execution: walk the same (unchanged) tree with evaluated = a Python
 * sequence of those subtrees' values (ExecEvalExpr'd, converted by sgconv) and next the
 * index of the tree's first value in it; each value becomes a Constant of
 * evaluated[next++]. EXPLAIN without running: as planning.
 */
typedef struct SgExpressionValues
{
	List	   *exprs;
	PyObject   *evaluated;
	Py_ssize_t	next;
} SgExpressionValues;

/*
 * The tree of expr (new reference), or NULL when a node of it cannot be described (no
 * Python error then; exprs and next are left as they were).
 */
extern PyObject *sgfdw_expression(Expr *expr, const SgExpressionScope *scope,
								  SgExpressionValues *values);

/* A collation's name for Python (None, or a str; see expression.c) and SQL (NULL: none). */
extern char *sgfdw_collation_sql_name(Oid collation);
extern PyObject *sgfdw_collation_name(Oid collation);

/* ---- filters.c: other restriction clauses, which the FDW may enforce (can_filter) ---- */
extern List *sgfdw_plan_filters(PlannerInfo *root, RelOptInfo *baserel, SgTable *table,
								bool *all_enforced);
extern List *sgfdw_take_filters(List *clauses, List *filters, Index varno, Oid relid,
								List **values, List **descriptions);
extern PyObject *sgfdw_filters_at_execution(List *descriptions, Oid relid,
											PyObject *evaluated);

/* ---- ctid.c: the row identity an FDW may provide (provides_ctid) ---- */
extern bool sgfdw_provides_ctid(PyObject *instance);
extern void sgfdw_require_ctid(SgTable *table);
extern PyObject *sgfdw_ctid_name(void);
extern void sgfdw_ctid_from_python(PyObject *value, ItemPointer tid);

/* ---- conflict.c: INSERT ... ON CONFLICT, for an FDW listing on_conflict_actions ---- */
/* The action's name for the FDW (new reference), NULL for none; refuses what it lacks. */
extern PyObject *sgfdw_on_conflict(SgTable *table, OnConflictAction action);

/* ---- truncate.c: TRUNCATE through the optional truncate() ---- */
extern void sgfdwExecForeignTruncate(List *rels, DropBehavior behavior, bool restart_seqs);

/* ---- analyze.c: ANALYZE's sample through the optional analyze_sample() ---- */
extern bool sgfdwAnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func,
									 BlockNumber *totalpages);

/* ---- planner.c: sizes, paths, sort and LIMIT pushdown, the plan node ---- */
/*
 * ForeignScan.fdw_private, made by planner.c for scan.c: one item per index (as
 * postgres_fdw's FdwScanPrivateIndex).
 */
enum SgScanPrivateIndex
{
	SgScanPrivateQuals,			/* the quals' descriptions (quals.c) */
	SgScanPrivateColumns,		/* IntList: attnums the query reads (0: whole row) */
	SgScanPrivateSortKeys,		/* the pushed sort keys' descriptions, NIL: none */
	SgScanPrivateLimit,			/* int8 Const, NULL: no pushed LIMIT */
	SgScanPrivateOffset,		/* int8 Const, NULL: no pushed OFFSET */
	SgScanPrivateAggregation,	/* the pushed aggregation's description (upper.c), NIL: none */
	SgScanPrivateJoin,			/* the pushed join's description (join.c), NIL: none */
	SgScanPrivateFilters,		/* the accepted filters' descriptions (filters.c) */
	SgScanPrivateCount
};

/* A List of items[0..count), each at its named index (fdw_private and what it holds). */
static inline List *
sgfdw_list_of(Node **items, int count)
{
	List	   *list = NIL;

	for (int i = 0; i < count; i++)
		list = lappend(list, items[i]);
	return list;
}

extern void sgfdwGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid);
extern void sgfdwGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid);
extern ForeignScan *sgfdwGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
										Oid foreigntableid, ForeignPath *best_path,
										List *tlist, List *scan_clauses, Plan *outer_plan);
extern void sgfdwGetForeignUpperPaths(PlannerInfo *root, UpperRelationKind stage,
									  RelOptInfo *input_rel, RelOptInfo *output_rel,
									  void *extra);
/* The costs of a scan of baserel yielding rows of width (its FDW's startup and row costs). */
extern void sgfdw_scan_costs(RelOptInfo *baserel, double rows, double width,
							 Cost *startup_cost, Cost *total_cost);
/* ForeignPath.fdw_private of a pushed path (made by sgfdw_path_private). */
enum SgPathPrivateIndex
{
	SgPathPrivateSortKeys,		/* the sort keys' descriptions, NIL: none */
	SgPathPrivateLimit,			/* int8 Const, NULL: no LIMIT */
	SgPathPrivateOffset,		/* int8 Const, NULL: no OFFSET */
	SgPathPrivateAggregation,	/* the aggregation's description (upper.c), NIL: none */
	SgPathPrivateScanTlist,		/* its fdw_scan_tlist: grouping columns, aggregates */
	SgPathPrivateCount
};

/* A pushed path's fdw_private (limit, offset NULL: none; aggregation NIL: none). */
extern List *sgfdw_path_private(List *sort_nodes, Const *limit, Const *offset,
								List *aggregation, List *scan_tlist);
/* A sort key's description (planning runs Python; plans hold only copyable nodes). */
enum SgSortKeyField
{
	SgSortKeyAttnum,			/* Integer (of an aggregation's scan: the output's position) */
	SgSortKeyReversed,			/* Integer, as a bool: DESC */
	SgSortKeyNullsFirst,		/* Integer, as a bool */
	SgSortKeyCollation,			/* String, "": the default collation */
	SgSortKeyFieldCount
};

/* Sort keys: a description, and the SortKey object it stands for (name: borrowed). */
extern List *sgfdw_sortkey_node(PathKey *pathkey, int attnum);
extern PyObject *sgfdw_sortkey_object(PyObject *name, List *node);
/* LIMIT/OFFSET that a scan yielding exactly the rows below the limit may apply. */
extern bool sgfdw_limit_to_push(PlannerInfo *root, FinalPathExtraData *extra, Const **limit,
								Const **offset);
extern double sgfdw_limited_rows(double rows, Const *limit, Const *offset);

#if PG_VERSION_NUM >= 180000
#define make_upper_path(root, rel, target, rows, startup, total, pathkeys, priv) \
	create_foreign_upper_path(root, rel, target, rows, 0, startup, total, pathkeys, NULL, \
							  NIL, priv)
#elif PG_VERSION_NUM >= 170000
#define make_upper_path(root, rel, target, rows, startup, total, pathkeys, priv) \
	create_foreign_upper_path(root, rel, target, rows, startup, total, pathkeys, NULL, NIL, \
							  priv)
#else
#define make_upper_path(root, rel, target, rows, startup, total, pathkeys, priv) \
	create_foreign_upper_path(root, rel, target, rows, startup, total, pathkeys, NULL, priv)
#endif

/* ---- upper.c: grouping and aggregation computed by the FDW ---- */
extern void sgfdw_add_aggregate_path(PlannerInfo *root, RelOptInfo *baserel,
									 RelOptInfo *grouped_rel, GroupPathExtraData *extra,
									 SgTable *table, Cost startup_cost, Cost row_cost);
extern ForeignPath *sgfdw_aggregation_path(RelOptInfo *rel);
extern void sgfdw_add_ordered_aggregation_path(PlannerInfo *root, ForeignPath *aggregated,
											   RelOptInfo *ordered_rel);
extern void sgfdw_add_limited_aggregation_path(PlannerInfo *root, ForeignPath *aggregated,
											   RelOptInfo *final_rel,
											   FinalPathExtraData *extra);
/*
 * The Aggregation object; sort_nodes, limit and offset as in a pushed path's fdw_private;
 * values: its trees' values (NULL: as planned, Parameters).
 */
extern PyObject *sgfdw_aggregation_from_nodes(SgTable *table, List *description,
											  List *sort_nodes, Node *limit, Node *offset,
											  SgExpressionValues *values);
extern List *sgfdw_aggregation_plan_values(SgTable *table, List *description, List **values);
extern int	sgfdw_aggregation_first_value(List *description);
extern List *sgfdw_aggregation_columns(List *description);
extern List *sgfdw_aggregation_local_having(PlannerInfo *root, List *description);
extern void sgfdw_aggregation_reader(PyObject *aggregation, TupleDesc desc,
									 const char *relname, SgRowReader *rows);

/* ---- join.c: joins of foreign tables computed by the FDW ---- */
extern void sgfdwGetForeignJoinPaths(PlannerInfo *root, RelOptInfo *joinrel,
									 RelOptInfo *outerrel, RelOptInfo *innerrel,
									 JoinType jointype, JoinPathExtraData *extra);
extern ForeignScan *sgfdw_join_plan(PlannerInfo *root, RelOptInfo *joinrel, List *tlist,
									Plan *outer_plan);
extern Index sgfdw_join_first_rtindex(List *description, Relids scanned);
extern void sgfdw_join_touch(List *description);
extern PyObject *sgfdw_join_reader(List *description, TupleDesc desc, SgRowReader *rows);
extern PyObject *sgfdw_join_execute(ForeignScanState *node, PyObject *instance,
									List *description);
extern void sgfdw_join_explain(ForeignScanState *node, PyObject *instance, List *description,
							   ExplainState *es);

/* ---- scan.c: begin / iterate / rescan / end of a foreign scan, EXPLAIN ---- */
/* A value of the scan's fdw_exprs (UNBOUND if not evaluate and not a constant). */
extern PyObject *sgfdw_scan_value(ForeignScanState *node, int index, bool evaluate);
/* The Qual objects of quals (of foreign table relid), their values as sgfdw_scan_value's. */
extern bool sgfdw_scan_value_is_null(ForeignScanState *node, int index);
extern PyObject *sgfdw_scan_quals(ForeignScanState *node, List *quals, Oid relid,
								  bool evaluate);
extern void sgfdwBeginForeignScan(ForeignScanState *node, int eflags);
extern TupleTableSlot *sgfdwIterateForeignScan(ForeignScanState *node);
extern void sgfdwReScanForeignScan(ForeignScanState *node);
extern void sgfdwEndForeignScan(ForeignScanState *node);
extern void sgfdwExplainForeignScan(ForeignScanState *node, ExplainState *es);
extern void sgfdw_explain_lines(PyObject *lines, const char *method, ExplainState *es);

/* ---- modify.c: INSERT / UPDATE / DELETE / batch insert ---- */
extern void sgfdw_set_modify_routines(FdwRoutine *routine);

/* ---- direct.c: UPDATE / DELETE run by the FDW as one statement ---- */
extern void sgfdw_set_direct_routines(FdwRoutine *routine);

/* ---- xact.c: the FDWs' part in transactions and subtransactions ---- */
extern void sgfdw_xact_touch(PyObject *instance);
/*
 * Whether a callback of a (sub)transaction's end is running: no SQL can run in one
 * (sgfdw.pg refuses it), though PostgreSQL still reports a transaction in progress in
 * some (sub_commit()).
 */
typedef enum SgXactEnding
{
	SG_XACT_RUNNING,
	SG_XACT_COMMITTING,
	SG_XACT_ABORTING
} SgXactEnding;
extern SgXactEnding sgfdw_xact_ending;
extern void sgfdw_init_xact_callbacks(void);

/* ---- import.c: IMPORT FOREIGN SCHEMA ---- */
extern List *sgfdwImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid);

/* ---- pymodule.c: the builtin module _sgfdw ---- */
extern PyObject *PyInit__sgfdw(void);

/* ---- spi.c: _sgfdw's SQL functions (sgfdw.pg) ---- */
extern PyObject *sgfdw_spi_execute(PyObject *self, PyObject *args);
extern PyObject *sgfdw_spi_cursor_open(PyObject *self, PyObject *args);
extern PyObject *sgfdw_spi_cursor_fetch(PyObject *self, PyObject *args);
extern PyObject *sgfdw_spi_cursor_fetch_arrow(PyObject *self, PyObject *args);
extern PyObject *sgfdw_spi_cursor_close(PyObject *self, PyObject *args);

/* ---- arrow_out.c: SPI_tuptable's rows as an Arrow record batch object (None: no rows) ---- */
extern PyObject *sgarrow_batch_from_spi(void);

#endif							/* SGFDW_H */
