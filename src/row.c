/*
 * row.c
 *		A row from Python -- a sequence or a mapping -- into a tuple's values.
 *
 * Scans (rows execute() yields), sgfdw_python functions (composite results) and writes
 * (the rows insert(), update() and delete() return for RETURNING) read rows by one set
 * of rules: a tuple, a list or another sequence gives every column by position (and the
 * row's ctid after them, where one is read); a dict or another mapping gives columns by
 * name (the ctid under 'ctid') through its own lookup (a dict subclass's __missing__
 * too), and a key it lacks leaves that column as the caller set it (NULL for a scan or
 * a function, the row as sent for RETURNING). Anything else is an error. Arrow batches
 * are arrow.c's.
 *
 * Converting a value can run Python (__str__, a mapping's __getitem__) that changes the
 * row or drops its other values, so each value is fetched in its turn, held while it is
 * converted, and a sequence's length is checked again before each fetch.
 */
#include "sgfdw.h"

static void pg_attribute_noreturn()
report_bad_row(SgRowReader *reader, PyObject *row, Py_ssize_t length)
{
	bool		with_ctid = reader->ctid != SG_ROW_CTID_NONE;

	/* An FDW's bad row is the FDW's error; a function's result is a datatype mismatch. */
	if (length >= 0)
		ereport(ERROR,
				(errcode(reader->from_fdw ? ERRCODE_FDW_INCONSISTENT_DESCRIPTOR_INFORMATION
						 : ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s returned a row of %zd values, expected %d values (the columns of %s%s)",
						reader->source, length, reader->ncolumns + with_ctid, reader->target,
						with_ctid ? " and the row's ctid" : "")));
	ereport(ERROR,
			(errcode(reader->from_fdw ? ERRCODE_FDW_INVALID_DATA_TYPE
					 : ERRCODE_DATATYPE_MISMATCH),
			 errmsg("%s returned a row of Python type %s, expected a sequence or a mapping",
					reader->source, Py_TYPE(row)->tp_name)));
}

static void pg_attribute_noreturn()
report_reading_error(SgRowReader *reader)
{
	sgfdw_report_python_error(reader->from_fdw ? ERRCODE_FDW_INVALID_DATA_TYPE
							  : ERRCODE_DATATYPE_MISMATCH, "reading a row");
}

/*
 * The row's values by position: the row itself if it is a tuple or a list, else a new
 * list of it; NULL for a mapping (read by name).
 */
static PyObject *
row_items(SgRowReader *reader, PyObject *row)
{
	PyObject   *items;

	if (PyTuple_Check(row) || PyList_Check(row))
	{
		Py_INCREF(row);
		return row;
	}
	if (PyMapping_Check(row))
		return NULL;
	if (!PySequence_Check(row))
		report_bad_row(reader, row, -1);
	/* Read by iterating, after len(): a sequence whose len() fails is refused. */
	SGFDW_ENTER_PYTHON();
	items = PySequence_Size(row) < 0 ? NULL : PySequence_Fast(row, "row");
	SGFDW_LEAVE_PYTHON();
	if (items == NULL)
		report_reading_error(reader);
	return items;
}

/* The value at position / under key, a new reference; NULL: the mapping has no such key. */
static PyObject *
row_value(SgRowReader *reader, PyObject *row, PyObject *items, int position, PyObject *key)
{
	PyObject   *value;

	if (items)
	{
		Py_ssize_t	length = PySequence_Fast_GET_SIZE(items);

		if (length != reader->ncolumns + (reader->ctid != SG_ROW_CTID_NONE))
			report_bad_row(reader, row, length);
		value = PySequence_Fast_GET_ITEM(items, position);
		Py_INCREF(value);
	}
	else if (PyDict_CheckExact(row))
	{
		/* A plain dict runs no Python to look a key up (a subclass may: below). */
		value = PyDict_GetItemWithError(row, key);
		if (value == NULL && PyErr_Occurred())
			report_reading_error(reader);
		Py_XINCREF(value);
	}
	else
	{
		SGFDW_ENTER_PYTHON();
		value = PyObject_GetItem(row, key);
		SGFDW_LEAVE_PYTHON();
		if (value == NULL)
		{
			if (!PyErr_ExceptionMatches(PyExc_KeyError))
				report_reading_error(reader);
			PyErr_Clear();
		}
	}
	return value;
}

/*
 * Reads the reader's entries of row into values / nulls (and its ctid into *tid). While
 * an entry is converted, *current (if given) is its index, -1 otherwise, for an error
 * context naming the column.
 */
void
sgrow_read(SgRowReader *reader, PyObject *row, Datum *values, bool *nulls, ItemPointer tid,
		   int *current)
{
	PyObject   *volatile items = NULL;
	PyObject   *volatile value = NULL;
	int			unused;

	if (current == NULL)
		current = &unused;
	PG_TRY();
	{
		items = row_items(reader, row);
		for (int i = 0; i < reader->nentries; i++)
		{
			int			index = reader->value_indexes[i];
			PyObject   *previous = value;

			*current = i;
			value = row_value(reader, row, items, reader->positions[i], reader->keys[i]);
			Py_XDECREF(previous);
			if (value != NULL)
				values[index] = sgconv_to_datum(reader->converters[i], value, &nulls[index]);
		}
		*current = -1;
		if (reader->ctid != SG_ROW_CTID_NONE)
		{
			PyObject   *previous = value;

			value = row_value(reader, row, items, reader->ncolumns, sgfdw_ctid_name());
			Py_XDECREF(previous);
			if (value != NULL || reader->ctid == SG_ROW_CTID_REQUIRED)
				sgfdw_ctid_from_python(value, tid);
		}
	}
	PG_FINALLY();
	{
		Py_XDECREF(value);
		Py_XDECREF(items);
	}
	PG_END_TRY();
}

/*
 * A reader of rows of every live column of foreign table relname, from an FDW: names
 * (a tuple of str, held by the caller) and attnums give each column's key and place.
 */
void
sgrow_init_columns(SgRowReader *reader, int ncolumns, PyObject *names, AttrNumber *attnums,
				   SgConverter **converters, const char *relname)
{
	memset(reader, 0, sizeof(SgRowReader));
	reader->ncolumns = ncolumns;
	reader->nentries = ncolumns;
	reader->positions = palloc(sizeof(int) * Max(ncolumns, 1));
	reader->keys = palloc(sizeof(PyObject *) * Max(ncolumns, 1));
	reader->value_indexes = palloc(sizeof(int) * Max(ncolumns, 1));
	reader->converters = converters;
	for (int i = 0; i < ncolumns; i++)
	{
		reader->positions[i] = i;
		reader->keys[i] = PyTuple_GET_ITEM(names, i);
		reader->value_indexes[i] = attnums[i] - 1;
	}
	reader->from_fdw = true;
	reader->source = "FDW";
	reader->target = psprintf("foreign table \"%s\"", relname);
}

/*
 * A reader of rows of values an FDW computed (an aggregation's, a join's) into a tuple
 * of desc: by position, or in a mapping under names (borrowed: the caller holds them).
 */
void
sgrow_init_outputs(SgRowReader *reader, PyObject *names, TupleDesc desc, const char *target)
{
	memset(reader, 0, sizeof(SgRowReader));
	reader->ncolumns = reader->nentries = desc->natts;
	reader->positions = palloc(sizeof(int) * Max(desc->natts, 1));
	reader->keys = palloc(sizeof(PyObject *) * Max(desc->natts, 1));
	reader->converters = palloc(sizeof(SgConverter *) * Max(desc->natts, 1));
	reader->value_indexes = palloc(sizeof(int) * Max(desc->natts, 1));
	for (int i = 0; i < desc->natts; i++)
	{
		reader->positions[i] = i;
		reader->keys[i] = PyTuple_GET_ITEM(names, i);
		reader->converters[i] = sgconv_create(TupleDescAttr(desc, i)->atttypid,
											  TupleDescAttr(desc, i)->atttypmod);
		reader->value_indexes[i] = i;
	}
	reader->ctid = SG_ROW_CTID_NONE;
	reader->from_fdw = true;
	reader->source = "FDW";
	reader->target = target;
}
