/*
 * analyze.c
 *		ANALYZE of Python foreign tables: the statistics PostgreSQL keeps from a sample.
 *
 * Without statistics the planner guesses every join and filter selectivity on a foreign
 * table. An FDW whose class has the optional method analyze_sample(sample_size) gives
 * a sample of rows and, if it knows it, the table's row count; sgfdw.sampling keeps at
 * most sample_size of them as a uniform sample, and the bridge reads each as a scan's
 * row (row.c, every column) into a heap tuple for ANALYZE's statistics. Tables of other
 * FDWs are skipped with PostgreSQL's usual WARNING.
 */
#include "sgfdw.h"

#include "access/htup_details.h"
#include "utils/memutils.h"
#include "utils/rel.h"

typedef struct SgSampleContext
{
	Relation	rel;
	SgRowReader rows;			/* every live column */
	int			current;		/* the entry of rows being converted, or -1 */
} SgSampleContext;

static void
sample_error_context(void *arg)
{
	SgSampleContext *context = arg;

	if (context->current >= 0)
		errcontext("column \"%s\" of a sample row of foreign table \"%s\"",
				   NameStr(TupleDescAttr(RelationGetDescr(context->rel),
										 context->rows.value_indexes[context->current])->attname),
				   RelationGetRelationName(context->rel));
	else
		errcontext("sampling foreign table \"%s\"", RelationGetRelationName(context->rel));
}

/* Rows of the sample as heap tuples (dropped columns are NULL). */
static int
form_sample(Relation rel, SgTable *table, PyObject *sample, HeapTuple *rows, int targrows,
			SgSampleContext *context)
{
	TupleDesc	desc = RelationGetDescr(rel);
	SgConverter **converters = palloc(sizeof(SgConverter *) * Max(table->ncolumns, 1));
	Datum	   *values = palloc(sizeof(Datum) * desc->natts);
	bool	   *nulls = palloc(sizeof(bool) * desc->natts);
	MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "sgfdw sample row",
													  ALLOCSET_DEFAULT_SIZES);
	MemoryContext outer = CurrentMemoryContext;
	int			count = (int) Min(PyList_GET_SIZE(sample), targrows);

	for (int i = 0; i < table->ncolumns; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, table->column_attnums[i] - 1);

		converters[i] = sgconv_create(att->atttypid, att->atttypmod);
	}
	sgrow_init_columns(&context->rows, table->ncolumns, table->column_names,
					   table->column_attnums, converters, RelationGetRelationName(rel));
	context->rows.source = "analyze_sample()";
	for (int n = 0; n < count; n++)
	{
		MemoryContextSwitchTo(row_context);
		memset(nulls, true, sizeof(bool) * desc->natts);
		sgrow_read(&context->rows, PyList_GET_ITEM(sample, n), values, nulls, NULL,
				   &context->current);
		context->current = -1;
		MemoryContextSwitchTo(outer);
		rows[n] = heap_form_tuple(desc, values, nulls);
		MemoryContextReset(row_context);
	}
	MemoryContextDelete(row_context);
	return count;
}

static int
acquire_sample(Relation rel, int elevel, HeapTuple *rows, int targrows, double *totalrows,
			   double *totaldeadrows)
{
	static PyObject *sample_rows = NULL;
	SgTable    *table = sgfdw_get_table(RelationGetRelid(rel));
	SgSampleContext context = {.rel = rel, .current = -1};
	ErrorContextCallback callback = {error_context_stack, sample_error_context, &context};
	PyObject   *result;
	int			count;

	if (sample_rows == NULL)
		sample_rows = sgfdw_bridge_attr("sample_rows");
	error_context_stack = &callback;
	sgfdw_xact_touch(table->instance);
	/* (rows: a list of rows as execute() yields them, total rows: a float) */
	result = sgfdw_call(sample_rows,
						Py_BuildValue("(Oi)", table->instance, targrows),
						NULL, "analyze_sample()");
	PG_TRY();
	{
		count = form_sample(rel, table, PyTuple_GET_ITEM(result, 0), rows, targrows, &context);
		*totalrows = Max(PyFloat_AsDouble(PyTuple_GET_ITEM(result, 1)), count);
		*totaldeadrows = 0;
	}
	PG_FINALLY();
	{
		Py_DECREF(result);
	}
	PG_END_TRY();
	error_context_stack = callback.previous;
	ereport(elevel,
			(errmsg("\"%s\": table contains %.0f rows, %d rows in sample",
					RelationGetRelationName(rel), *totalrows, count)));
	return count;
}

bool
sgfdwAnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func,
						 BlockNumber *totalpages)
{
	SgTable    *table = sgfdw_get_table(RelationGetRelid(relation));

	if (!PyObject_HasAttrString(table->instance, "analyze_sample"))
		return false;
	*func = acquire_sample;
	/* Pages mean nothing to a Python source; the row count comes with the sample. */
	*totalpages = 1;
	return true;
}
