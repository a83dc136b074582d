/*
 * arrow_out.c
 *		SPI result rows as an Arrow record batch (sgfdw.pg.arrow), without Python values.
 *
 * The batch's buffers are malloc'd, not palloc'd: the consumer (pyarrow, the object
 * store) keeps them after the SPI call and the transaction, until it calls the release
 * callback of the C data interface. Each PostgreSQL type becomes the Arrow type that
 * holds its values exactly (arrays: lists; json and uuid: Arrow's canonical extension
 * types); a type without one (numeric without a precision that fits decimal128, ...)
 * becomes utf8 of its text output, its PostgreSQL type named in the field metadata
 * ("sgfdw.pg_type"), so nothing is silently changed.
 */
#include "sgfdw.h"
#include "arrow_abi.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

typedef enum OutKind
{
	OUT_BOOL, OUT_FIXED, OUT_DATE, OUT_TIMESTAMP, OUT_TIME, OUT_INTERVAL, OUT_DECIMAL,
	OUT_STRING, OUT_BINARY, OUT_FIXED_BINARY, OUT_LIST
} OutKind;

/* One column being built: everything it owns is malloc'd and reachable from here. */
typedef struct OutColumn
{
	OutKind		kind;
	int			width;			/* bytes per value of fixed-width kinds */
	int			scale;			/* decimals */
	char	   *format;
	char	   *name;
	char	   *metadata;
	FmgrInfo	output;
	void	   *buffers[3];		/* validity, values or offsets, string data */
	const void *buffer_list[3];
	int			n_buffers;
	int64		length;			/* values appended */
	int64		capacity;		/* values the buffers have room for */
	size_t		data_size;
	size_t		data_capacity;
	int64		null_count;
	/* lists: the column of their elements, and its structures in the batch */
	struct OutColumn *element;
	Oid			elemtype;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	struct ArrowSchema element_schema;
	struct ArrowSchema *element_schemas[1];
	struct ArrowArray element_array;
	struct ArrowArray *element_arrays[1];
} OutColumn;

/* What a batch's schema and array own: freed by their release callbacks. */
typedef struct OutBatch
{
	int			ncolumns;
	OutColumn  *columns;		/* malloc'd */
	struct ArrowSchema **child_schemas;
	struct ArrowSchema *schema_structs;
	struct ArrowArray **child_arrays;
	struct ArrowArray *array_structs;
	const void *struct_buffers[1];
	int			references;		/* the schema and the array each hold one */
} OutBatch;

static void *
out_alloc(size_t size)
{
	void	   *result = calloc(1, Max(size, 1));

	if (result == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory building an Arrow batch of %zu bytes", size)));
	return result;
}

static char *
out_strdup(const char *text)
{
	char	   *result = out_alloc(strlen(text) + 1);

	strcpy(result, text);
	return result;
}

static void
free_column(OutColumn *column)
{
	for (int b = 0; b < 3; b++)
		free(column->buffers[b]);
	free(column->format);
	free(column->name);
	free(column->metadata);
	if (column->element)
	{
		free_column(column->element);
		free(column->element);
	}
}

static void
free_batch(OutBatch *batch)
{
	if (batch == NULL)
		return;
	for (int c = 0; c < batch->ncolumns && batch->columns; c++)
		free_column(&batch->columns[c]);
	free(batch->columns);
	free(batch->child_schemas);
	free(batch->schema_structs);
	free(batch->child_arrays);
	free(batch->array_structs);
	free(batch);
}

static void
unreference(OutBatch *batch)
{
	if (--batch->references == 0)
		free_batch(batch);
}

static void
release_schema(struct ArrowSchema *schema)
{
	unreference(schema->private_data);
	schema->release = NULL;
}

static void
release_array(struct ArrowArray *array)
{
	unreference(array->private_data);
	array->release = NULL;
}

/* Children are released with their parent: theirs only marks them released. */
static void
release_child_schema(struct ArrowSchema *schema)
{
	schema->release = NULL;
}

static void
release_child_array(struct ArrowArray *array)
{
	array->release = NULL;
}

/*
 * Field metadata (int32 count, then per pair int32 length + bytes, twice): a canonical
 * extension type's name, and the PostgreSQL type; either may be NULL.
 */
static char *
field_metadata(const char *extension, const char *pg_type)
{
	const char *pairs[6];
	int32		count = 0;
	size_t		size = 4;
	char	   *result;
	char	   *out;

	if (extension)
	{
		pairs[2 * count] = "ARROW:extension:name";
		pairs[2 * count++ + 1] = extension;
		pairs[2 * count] = "ARROW:extension:metadata";
		pairs[2 * count++ + 1] = "";
	}
	if (pg_type)
	{
		pairs[2 * count] = "sgfdw.pg_type";
		pairs[2 * count++ + 1] = pg_type;
	}
	for (int i = 0; i < 2 * count; i++)
		size += 4 + strlen(pairs[i]);
	result = out = out_alloc(size);
	memcpy(out, &count, 4);
	out += 4;
	for (int i = 0; i < 2 * count; i++)
	{
		int32		length = strlen(pairs[i]);

		memcpy(out, &length, 4);
		memcpy(out + 4, pairs[i], length);
		out += 4 + length;
	}
	return result;
}

/* buffer (NULL: none yet) grown from old_size to size bytes, the new bytes zeroed */
static void *
out_grow(void *buffer, size_t old_size, size_t size)
{
	char	   *grown = realloc(buffer, Max(size, 1));

	if (buffer == NULL)
		old_size = 0;
	if (grown == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory building an Arrow batch of %zu bytes", size)));
	memset(grown + old_size, 0, size - old_size);
	return grown;
}

static bool
has_offsets(OutColumn *column)
{
	return column->kind == OUT_STRING || column->kind == OUT_BINARY ||
		column->kind == OUT_LIST;
}

/* Room for values values in the column's buffers (lists' elements grow as they come). */
static void
reserve(OutColumn *column, int64 values)
{
	int64		old = column->capacity;
	int64		capacity = Max(values, old * 2);

	if (values <= old)
		return;
	column->buffers[0] = out_grow(column->buffers[0], (old + 7) / 8, (capacity + 7) / 8);
	if (column->kind == OUT_BOOL)
		column->buffers[1] = out_grow(column->buffers[1], (old + 7) / 8, (capacity + 7) / 8);
	else if (has_offsets(column))
		column->buffers[1] = out_grow(column->buffers[1], sizeof(int32) * (old + 1),
									  sizeof(int32) * (capacity + 1));
	else
		column->buffers[1] = out_grow(column->buffers[1], column->width * old,
									  column->width * capacity);
	column->capacity = capacity;
}

static void
setup_column(OutColumn *column, const char *name, Oid typid, int32 typmod, int64 rows)
{
	int32		basetypmod = typmod;
	Oid			type = getBaseTypeAndTypmod(typid, &basetypmod);
	Oid			elemtype = get_element_type(type);
	char		format[32];
	Oid			outfunc;
	bool		isvarlena;

	column->name = out_strdup(name);
	column->n_buffers = 2;
	if (OidIsValid(elemtype))
	{
		/* a one-dimensional array: a list (put_array refuses the others) */
		column->kind = OUT_LIST;
		strcpy(format, "+l");
		column->elemtype = elemtype;
		get_typlenbyvalalign(elemtype, &column->elmlen, &column->elmbyval,
							 &column->elmalign);
		column->element = out_alloc(sizeof(OutColumn));
		setup_column(column->element, "item", elemtype, typmod, 0);
	}
	else
		switch (type)
		{
			case BOOLOID:
				column->kind = OUT_BOOL;
				strcpy(format, "b");
				break;
			case INT2OID:
				column->kind = OUT_FIXED;
				column->width = 2;
				strcpy(format, "s");
				break;
			case INT4OID:
				column->kind = OUT_FIXED;
				column->width = 4;
				strcpy(format, "i");
				break;
			case INT8OID:
				column->kind = OUT_FIXED;
				column->width = 8;
				strcpy(format, "l");
				break;
			case FLOAT4OID:
				column->kind = OUT_FIXED;
				column->width = 4;
				strcpy(format, "f");
				break;
			case FLOAT8OID:
				column->kind = OUT_FIXED;
				column->width = 8;
				strcpy(format, "g");
				break;
			case DATEOID:
				column->kind = OUT_DATE;
				column->width = 4;
				strcpy(format, "tdD");
				break;
			case TIMESTAMPOID:
			case TIMESTAMPTZOID:
				column->kind = OUT_TIMESTAMP;
				column->width = 8;
				strcpy(format, type == TIMESTAMPOID ? "tsu:" : "tsu:UTC");
				break;
			case TIMEOID:
				column->kind = OUT_TIME;
				column->width = 8;
				strcpy(format, "ttu");
				break;
			case INTERVALOID:
				/* month_day_nano: months, days and time kept apart, as PostgreSQL keeps them */
				column->kind = OUT_INTERVAL;
				column->width = 16;
				strcpy(format, "tin");
				break;
			case BYTEAOID:
				column->kind = OUT_BINARY;
				strcpy(format, "z");
				break;
			case TEXTOID:
			case VARCHAROID:
			case BPCHAROID:
				column->kind = OUT_STRING;
				strcpy(format, "u");
				break;
			case JSONOID:
			case JSONBOID:
				column->kind = OUT_STRING;
				strcpy(format, "u");
				column->metadata = field_metadata("arrow.json", format_type_be(typid));
				break;
			case UUIDOID:
				column->kind = OUT_FIXED_BINARY;
				column->width = UUID_LEN;
				snprintf(format, sizeof(format), "w:%d", UUID_LEN);
				column->metadata = field_metadata("arrow.uuid", NULL);
				break;
			case NUMERICOID:
				if (basetypmod >= VARHDRSZ && ((basetypmod - VARHDRSZ) >> 16) <= 38 &&
					((basetypmod - VARHDRSZ) & 0x7ff) <= ((basetypmod - VARHDRSZ) >> 16))
				{
					column->kind = OUT_DECIMAL;
					column->width = 16;
					column->scale = (basetypmod - VARHDRSZ) & 0x7ff;
					snprintf(format, sizeof(format), "d:%d,%d", (basetypmod - VARHDRSZ) >> 16,
							 column->scale);
					break;
				}
				/* FALLTHROUGH */
			default:
				column->kind = OUT_STRING;
				strcpy(format, "u");
				column->metadata = field_metadata(NULL, format_type_with_typemod(typid, typmod));
				break;
		}
	column->format = out_strdup(format);
	getTypeOutputInfo(typid, &outfunc, &isvarlena);
	fmgr_info(outfunc, &column->output);
	if (column->kind == OUT_STRING || column->kind == OUT_BINARY)
	{
		column->n_buffers = 3;
		column->data_capacity = 1024;
		column->buffers[2] = out_alloc(column->data_capacity);
	}
	/* at least one value: every buffer exists, even for no values (offsets: [0]) */
	reserve(column, Max(rows, 1));
}

static void
append_bytes(OutColumn *column, int64 row, const char *data, size_t size)
{
	int32	   *offsets = column->buffers[1];

	if (column->data_size + size > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column \"%s\" holds more than 2 GB in one Arrow batch", column->name),
				 errhint("Use a smaller batch_rows.")));
	if (column->data_size + size > column->data_capacity)
	{
		size_t		capacity = Max(column->data_capacity * 2, column->data_size + size);
		void	   *grown = realloc(column->buffers[2], capacity);

		if (grown == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory building an Arrow batch")));
		column->buffers[2] = grown;
		column->data_capacity = capacity;
	}
	memcpy((char *) column->buffers[2] + column->data_size, data, size);
	column->data_size += size;
	offsets[row + 1] = (int32) column->data_size;
}

/* numeric(p, s) text -> the unscaled 128-bit integer (p <= 38 digits fit). */
static void
put_decimal(OutColumn *column, int64 row, Datum value)
{
	char	   *text = OutputFunctionCall(&column->output, value);
	__int128	result = 0;
	bool		negative = false;
	int			fraction = -1;

	for (char *p = text; *p; p++)
	{
		if (*p == '-')
			negative = true;
		else if (*p == '.')
			fraction = 0;
		else if (*p >= '0' && *p <= '9')
		{
			result = result * 10 + (*p - '0');
			if (fraction >= 0)
				fraction++;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("numeric value %s of column \"%s\" has no Arrow decimal128", text,
							column->name)));
	}
	for (int i = Max(fraction, 0); i < column->scale; i++)
		result *= 10;
	if (negative)
		result = -result;
	memcpy((char *) column->buffers[1] + row * 16, &result, 16);
	pfree(text);
}

static void pg_attribute_noreturn()
report_infinite(OutColumn *column)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("column \"%s\" holds an infinite value, which Arrow cannot hold",
					column->name)));
}

static void append_value(OutColumn *column, Datum value, bool isnull);

/*
 * A one-dimensional array as the list at row: its elements appended to the element
 * column. Its lower bound is dropped, as the row path's Python list drops it (int2vector
 * starts at 0).
 */
static void
put_array(OutColumn *column, int64 row, Datum value)
{
	ArrayType  *array = DatumGetArrayTypeP(value);
	Datum	   *elements;
	bool	   *nulls;
	int			count;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("column \"%s\" holds an array of more than one dimension, which an Arrow list of its elements cannot hold",
						column->name),
				 errhint("Select it as text (a cast) to get its text output.")));
	deconstruct_array(array, column->elemtype, column->elmlen, column->elmbyval,
					  column->elmalign, &elements, &nulls, &count);
	for (int i = 0; i < count; i++)
		append_value(column->element, elements[i], nulls[i]);
	if (column->element->length > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column \"%s\" holds more than 2^31 array elements in one Arrow batch",
						column->name),
				 errhint("Use a smaller batch_rows.")));
	((int32 *) column->buffers[1])[row + 1] = (int32) column->element->length;
}

static void
put_value(OutColumn *column, int64 row, Datum value)
{
	char	   *values = column->buffers[1];

	switch (column->kind)
	{
		case OUT_BOOL:
			if (DatumGetBool(value))
				((uint8 *) values)[row >> 3] |= 1 << (row & 7);
			break;
		case OUT_FIXED:
			if (column->width == 2)
				((int16 *) values)[row] = DatumGetInt16(value);
			else if (column->width == 4 && column->format[0] == 'i')
				((int32 *) values)[row] = DatumGetInt32(value);
			else if (column->width == 4)
				((float4 *) values)[row] = DatumGetFloat4(value);
			else if (column->format[0] == 'l')
				((int64 *) values)[row] = DatumGetInt64(value);
			else
				((float8 *) values)[row] = DatumGetFloat8(value);
			break;
		case OUT_DATE:
			if (DATE_NOT_FINITE(DatumGetDateADT(value)))
				report_infinite(column);
			((int32 *) values)[row] = DatumGetDateADT(value) +
				(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE);
			break;
		case OUT_TIMESTAMP:
			if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(value)))
				report_infinite(column);
			((int64 *) values)[row] = DatumGetTimestamp(value) +
				(int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
			break;
		case OUT_TIME:
			((int64 *) values)[row] = DatumGetTimeADT(value);
			break;
		case OUT_INTERVAL:
			{
				Interval   *interval = DatumGetIntervalP(value);
				char	   *slot = values + row * 16;
				int64		nanos = interval->time * 1000;

				memcpy(slot, &interval->month, 4);
				memcpy(slot + 4, &interval->day, 4);
				memcpy(slot + 8, &nanos, 8);
				break;
			}
		case OUT_DECIMAL:
			put_decimal(column, row, value);
			break;
		case OUT_FIXED_BINARY:
			memcpy(values + row * column->width, DatumGetPointer(value), column->width);
			break;
		case OUT_LIST:
			put_array(column, row, value);
			break;
		case OUT_BINARY:
			{
				struct varlena *bytes = PG_DETOAST_DATUM_PACKED(value);

				append_bytes(column, row, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
				break;
			}
		case OUT_STRING:
			{
				char	   *text = OutputFunctionCall(&column->output, value);
				char	   *utf8 = pg_server_to_any(text, strlen(text), PG_UTF8);

				append_bytes(column, row, utf8, strlen(utf8));
				break;
			}
	}
}

/* The next value of the column. */
static void
append_value(OutColumn *column, Datum value, bool isnull)
{
	int64		row = column->length;

	reserve(column, row + 1);
	if (isnull)
	{
		column->null_count++;
		if (has_offsets(column))
			((int32 *) column->buffers[1])[row + 1] = ((int32 *) column->buffers[1])[row];
	}
	else
	{
		((uint8 *) column->buffers[0])[row >> 3] |= 1 << (row & 7);
		put_value(column, row, value);
	}
	column->length++;
}

/* The column's field and array structures (they point into the column). */
static void
export_column(OutColumn *column, struct ArrowSchema *field, struct ArrowArray *array)
{
	memset(field, 0, sizeof(*field));
	field->format = column->format;
	field->name = column->name;
	field->metadata = column->metadata;
	field->flags = ARROW_FLAG_NULLABLE;
	field->release = release_child_schema;
	for (int b = 0; b < column->n_buffers; b++)
		column->buffer_list[b] = column->buffers[b];
	memset(array, 0, sizeof(*array));
	array->length = column->length;
	array->null_count = column->null_count;
	array->n_buffers = column->n_buffers;
	array->buffers = column->buffer_list;
	array->release = release_child_array;
	if (column->element)
	{
		export_column(column->element, &column->element_schema, &column->element_array);
		column->element_schemas[0] = &column->element_schema;
		column->element_arrays[0] = &column->element_array;
		field->n_children = array->n_children = 1;
		field->children = column->element_schemas;
		array->children = column->element_arrays;
	}
}

/* The batch of SPI_tuptable's rows, as the structures of the C data interface. */
static OutBatch *
build_batch(struct ArrowSchema *schema, struct ArrowArray *array)
{
	SPITupleTable *table = SPI_tuptable;
	TupleDesc	desc = table->tupdesc;
	int64		rows = table->numvals;
	OutBatch   *batch = out_alloc(sizeof(OutBatch));
	MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "sgfdw arrow row",
													  ALLOCSET_DEFAULT_SIZES);

	PG_TRY();
	{
		int			n = desc->natts;

		batch->columns = out_alloc(sizeof(OutColumn) * Max(n, 1));
		for (int c = 0; c < n; c++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, c);

			batch->ncolumns = c + 1;
			setup_column(&batch->columns[c], NameStr(att->attname), att->atttypid,
						 att->atttypmod, rows);
		}
		for (int64 r = 0; r < rows; r++)
		{
			MemoryContext old = MemoryContextSwitchTo(row_context);

			for (int c = 0; c < n; c++)
			{
				bool		isnull;
				Datum		value = SPI_getbinval(table->vals[r], desc, c + 1, &isnull);

				append_value(&batch->columns[c], value, isnull);
			}
			MemoryContextSwitchTo(old);
			MemoryContextReset(row_context);
		}
		batch->child_schemas = out_alloc(sizeof(struct ArrowSchema *) * Max(n, 1));
		batch->schema_structs = out_alloc(sizeof(struct ArrowSchema) * Max(n, 1));
		batch->child_arrays = out_alloc(sizeof(struct ArrowArray *) * Max(n, 1));
		batch->array_structs = out_alloc(sizeof(struct ArrowArray) * Max(n, 1));
		for (int c = 0; c < n; c++)
		{
			export_column(&batch->columns[c], &batch->schema_structs[c],
						  &batch->array_structs[c]);
			batch->child_schemas[c] = &batch->schema_structs[c];
			batch->child_arrays[c] = &batch->array_structs[c];
		}
		memset(schema, 0, sizeof(*schema));
		schema->format = "+s";
		schema->name = "";
		schema->n_children = n;
		schema->children = batch->child_schemas;
		schema->release = release_schema;
		schema->private_data = batch;
		memset(array, 0, sizeof(*array));
		array->length = rows;
		array->n_buffers = 1;
		array->buffers = batch->struct_buffers;
		array->n_children = n;
		array->children = batch->child_arrays;
		array->release = release_array;
		array->private_data = batch;
		batch->references = 2;
	}
	PG_CATCH();
	{
		free_batch(batch);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextDelete(row_context);
	return batch;
}

/* ---- The Python object: a record batch of the Arrow PyCapsule interface ---- */

typedef struct ArrowBatchObject
{
	PyObject_HEAD
	struct ArrowSchema schema;
	struct ArrowArray array;
} ArrowBatchObject;

static void
batch_dealloc(ArrowBatchObject *self)
{
	if (self->schema.release)
		self->schema.release(&self->schema);
	if (self->array.release)
		self->array.release(&self->array);
	Py_TYPE(self)->tp_free((PyObject *) self);
}

static void
schema_capsule_destructor(PyObject *capsule)
{
	struct ArrowSchema *schema = PyCapsule_GetPointer(capsule, "arrow_schema");

	if (schema->release)
		schema->release(schema);
	free(schema);
}

static void
array_capsule_destructor(PyObject *capsule)
{
	struct ArrowArray *array = PyCapsule_GetPointer(capsule, "arrow_array");

	if (array->release)
		array->release(array);
	free(array);
}

/*
 * __arrow_c_array__(requested_schema=None): the structures move into the capsules (the
 * consumer moves them on), so a batch is exported once.
 */
static PyObject *
batch_export(ArrowBatchObject *self, PyObject *args, PyObject *kwargs)
{
	static char *keywords[] = {"requested_schema", NULL};
	PyObject   *requested = Py_None;
	struct ArrowSchema *schema;
	struct ArrowArray *array;
	PyObject   *schema_capsule;
	PyObject   *array_capsule;

	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:__arrow_c_array__", keywords,
									 &requested))
		return NULL;
	if (self->array.release == NULL)
	{
		PyErr_SetString(PyExc_ValueError, "this Arrow batch was already exported");
		return NULL;
	}
	schema = malloc(sizeof(*schema));
	array = malloc(sizeof(*array));
	if (schema == NULL || array == NULL)
	{
		free(schema);
		free(array);
		return PyErr_NoMemory();
	}
	*schema = self->schema;
	self->schema.release = NULL;
	*array = self->array;
	self->array.release = NULL;
	schema_capsule = PyCapsule_New(schema, "arrow_schema", schema_capsule_destructor);
	if (schema_capsule == NULL)
	{
		schema->release(schema);
		free(schema);
		array->release(array);
		free(array);
		return NULL;
	}
	array_capsule = PyCapsule_New(array, "arrow_array", array_capsule_destructor);
	if (array_capsule == NULL)
	{
		Py_DECREF(schema_capsule);
		array->release(array);
		free(array);
		return NULL;
	}
	return Py_BuildValue("(NN)", schema_capsule, array_capsule);
}

static PyObject *
batch_num_rows(ArrowBatchObject *self, void *closure)
{
	return PyLong_FromLongLong(self->array.release ? self->array.length : -1);
}

static PyMethodDef batch_methods[] = {
	{"__arrow_c_array__", (PyCFunction) (void (*) (void)) batch_export,
	METH_VARARGS | METH_KEYWORDS,
	"The batch as Arrow PyCapsules (schema, array); a batch is exported once."},
	{NULL, NULL, 0, NULL}
};

static PyGetSetDef batch_getset[] = {
	{"num_rows", (getter) batch_num_rows, NULL, "rows (-1 once exported)", NULL},
	{NULL, NULL, NULL, NULL, NULL}
};

static PyTypeObject ArrowBatchType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "_sgfdw.ArrowBatch",
	.tp_doc = "Rows of an SQL query as an Arrow record batch (pyarrow.record_batch(it)).",
	.tp_basicsize = sizeof(ArrowBatchObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_dealloc = (destructor) batch_dealloc,
	.tp_methods = batch_methods,
	.tp_getset = batch_getset,
};

/* The rows of SPI_tuptable as an ArrowBatch object (None for no rows). */
PyObject *
sgarrow_batch_from_spi(void)
{
	ArrowBatchObject *self;

	if (SPI_tuptable == NULL || SPI_tuptable->numvals == 0)
		Py_RETURN_NONE;
	if (ArrowBatchType.tp_flags & Py_TPFLAGS_READY ? false : PyType_Ready(&ArrowBatchType) < 0)
		sgfdw_report_python_error(0, "creating the ArrowBatch type");
	self = PyObject_New(ArrowBatchObject, &ArrowBatchType);
	SGFDW_CHECK(self, "creating an Arrow batch");
	self->schema.release = NULL;
	self->array.release = NULL;
	PG_TRY();
	{
		build_batch(&self->schema, &self->array);
	}
	PG_CATCH();
	{
		Py_DECREF(self);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return (PyObject *) self;
}
