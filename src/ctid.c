/*
 * ctid.c
 *		The row identity a Python FDW may provide: each row's ctid.
 *
 * A foreign table's slot has no tuple behind it, so without the FDW's help every row's
 * ctid is the invalid item pointer: "SELECT ctid" shows (4294967295,0) and "ctid = x"
 * matches wrong rows. An FDW whose class sets provides_ctid supplies the ctid (asked
 * for by 'ctid' in the scan's columns, given as a (block, offset) pair or its text);
 * for any other FDW a statement that reads a foreign table's ctid is refused.
 */
#include "sgfdw.h"

#include "storage/itemptr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

bool
sgfdw_provides_ctid(PyObject *instance)
{
	return sgfdw_optional_flag(instance, "provides_ctid");
}

void
sgfdw_require_ctid(SgTable *table)
{
	if (!sgfdw_provides_ctid(table->instance))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("foreign table \"%s\" does not provide ctid",
						get_rel_name(table->relid)),
				 errdetail("Its FDW class does not set provides_ctid, so its rows have no ctid to read or compare.")));
}

/* The name FDWs see for the ctid: in the columns set, as a qual's field, as a row's key. */
PyObject *
sgfdw_ctid_name(void)
{
	static PyObject *name = NULL;

	if (name == NULL)
	{
		name = PyUnicode_InternFromString("ctid");
		SGFDW_CHECK(name, "ctid");
	}
	return name;
}

static uint64
tid_part(PyObject *sequence, Py_ssize_t index, uint64 max, const char *what)
{
	PyObject   *item = PySequence_GetItem(sequence, index);
	unsigned long long value;

	if (item == NULL)
		sgfdw_report_python_error(ERRCODE_FDW_INVALID_DATA_TYPE, "ctid");
	value = PyLong_Check(item) ? PyLong_AsUnsignedLongLong(item) : (unsigned long long) -1;
	Py_DECREF(item);
	if (value == (unsigned long long) -1 && PyErr_Occurred())
		PyErr_Clear();
	else if (value <= max)
		return value;
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("ctid %s must be an int from 0 to " UINT64_FORMAT, what, max)));
}

/*
 * A row's ctid as the FDW gives it -- a (block, offset) pair of ints, or its text
 * "(block,offset)" -- into *tid. NULL or None is an error: an invalid ctid would
 * compare equal to every other missing one.
 */
void
sgfdw_ctid_from_python(PyObject *value, ItemPointer tid)
{
	if (value == NULL || value == Py_None)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("FDW returned no ctid for a row")));
	if (PyUnicode_Check(value))
	{
		ItemPointer parsed = (ItemPointer) DatumGetPointer(
			DirectFunctionCall1(tidin, CStringGetDatum(sgfdw_cstring(value, "ctid"))));

		ItemPointerCopy(parsed, tid);
	}
	else if ((PyTuple_Check(value) || PyList_Check(value)) && PySequence_Size(value) == 2)
		ItemPointerSet(tid, (BlockNumber) tid_part(value, 0, PG_UINT32_MAX, "block"),
					   (OffsetNumber) tid_part(value, 1, PG_UINT16_MAX, "offset"));
	else
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("FDW returned a ctid of Python type %s, expected a (block, offset) pair or its text",
						Py_TYPE(value)->tp_name)));
}
