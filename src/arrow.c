/*
 * arrow.c
 *		Rows of Arrow record batches (the Arrow C data interface) as Datums.
 *
 * An FDW that already holds columnar data (pyarrow, polars, DuckDB) yields whole
 * batches: objects with __arrow_c_array__ (a record batch, a struct array) or
 * __arrow_c_stream__ (a table, a reader). The structures are read here from their
 * published layout, without Arrow's C++ library, so no Python object is made per value.
 * The structures come from arbitrary Python code, so everything they claim that can be
 * checked is checked before use (buffer counts, lengths, offsets, dictionary indexes);
 * only the sizes of the data buffers cannot be known (the interface does not carry them).
 *
 * Values follow the row path's results for the same values (what to_pylist() yields);
 * an Arrow type a column cannot take exactly is ERROR 42804 naming both types.
 */
#include "sgfdw.h"
#include "arrow_abi.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/int.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

/* What a column's values are, from its format string. */
typedef enum SgArrowKind
{
	AK_NULL, AK_BOOL, AK_INT, AK_UINT, AK_FLOAT16, AK_FLOAT32, AK_FLOAT64, AK_DECIMAL,
	AK_STRING,					/* utf8 / large_utf8 / binary / large_binary */
	AK_VIEW,					/* utf8_view / binary_view */
	AK_FIXED_BINARY, AK_DATE32, AK_DATE64, AK_TIME, AK_TIMESTAMP, AK_DURATION,
	AK_MONTH_DAY_NANO,			/* interval: months, days and nanoseconds apart */
	AK_LIST						/* list, large_list (width: offsets), fixed_size_list */
} SgArrowKind;

typedef struct SgArrowType
{
	SgArrowKind kind;
	int			width;			/* bytes per value: ints, floats, decimals, fixed binary,
								 * offsets (4 or 8) of strings */
	bool		utf8;			/* strings: text, not binary */
	int64		unit_ns;		/* time units: nanoseconds per unit */
	bool		zoned;			/* timestamp with a time zone */
	int			precision;
	int			scale;
	int			list_size;		/* fixed_size_list: values per list */
	char		name[80];		/* for messages */
} SgArrowType;

/* A needed column: where its values are, and what it becomes. */
typedef struct SgArrowColumn
{
	const char *name;			/* the foreign table's column name (UTF-8) */
	SgConverter *conv;
	Oid			basetype;
	int32		typmod;
	int			child;			/* index among the batch's columns, -1: missing (NULL) */
	SgArrowType type;			/* of the values (the dictionary's, if encoded) */
	SgArrowType index_type;		/* the index type of a dictionary-encoded column */
	bool		dictionary;
	const struct ArrowArray *array; /* in the current batch */
	const struct ArrowArray *values;	/* the dictionary, or the array itself */
	/* lists: their values, as a column of the array's element type */
	struct SgArrowColumn *element;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
} SgArrowColumn;

struct SgArrowReader
{
	MemoryContext context;		/* the scan's: what binding makes lives as long */
	int			ncolumns;
	SgArrowColumn *columns;
	int		   *slot_indexes;
	/* Owned (moved out of their capsules): released here, also on error. */
	struct ArrowSchema schema;
	struct ArrowArray array;
	struct ArrowArrayStream stream;
	int64		row;			/* next row of array */
};

static const int64 unix_epoch_days = POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE;

/* ------------------------------------------------------------------------
 * Formats
 * ------------------------------------------------------------------------ */

static void pg_attribute_noreturn()
report_malformed(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
			 errmsg("malformed Arrow data: %s", what)));
}

static int64
time_unit_ns(char unit)
{
	switch (unit)
	{
		case 's':
			return INT64CONST(1000000000);
		case 'm':
			return 1000000;
		case 'u':
			return 1000;
		case 'n':
			return 1;
	}
	return 0;
}

static const char *
unit_name(int64 unit_ns)
{
	return unit_ns == 1 ? "ns" : unit_ns == 1000 ? "us" : unit_ns == 1000000 ? "ms" : "s";
}

/* Parses a format string; false for types this reader does not take. */
static bool
parse_format(const char *format, SgArrowType *type)
{
	static const struct
	{
		const char *format;
		SgArrowKind kind;
		int			width;
		const char *name;
	}			simple[] =
	{
		{"n", AK_NULL, 0, "null"}, {"b", AK_BOOL, 0, "bool"},
		{"c", AK_INT, 1, "int8"}, {"s", AK_INT, 2, "int16"},
		{"i", AK_INT, 4, "int32"}, {"l", AK_INT, 8, "int64"},
		{"C", AK_UINT, 1, "uint8"}, {"S", AK_UINT, 2, "uint16"},
		{"I", AK_UINT, 4, "uint32"}, {"L", AK_UINT, 8, "uint64"},
		{"e", AK_FLOAT16, 2, "float16"}, {"f", AK_FLOAT32, 4, "float32"},
		{"g", AK_FLOAT64, 8, "float64"},
		{"u", AK_STRING, 4, "utf8"}, {"U", AK_STRING, 8, "large_utf8"},
		{"z", AK_STRING, 4, "binary"}, {"Z", AK_STRING, 8, "large_binary"},
		{"vu", AK_VIEW, 0, "utf8_view"}, {"vz", AK_VIEW, 0, "binary_view"},
		{"tdD", AK_DATE32, 4, "date32"}, {"tdm", AK_DATE64, 8, "date64"},
		{"tin", AK_MONTH_DAY_NANO, 16, "month_day_nano_interval"},
	};

	memset(type, 0, sizeof(*type));
	if (format == NULL)
		report_malformed("a column without a format");
	for (int i = 0; i < lengthof(simple); i++)
		if (strcmp(format, simple[i].format) == 0)
		{
			type->kind = simple[i].kind;
			type->width = simple[i].width;
			type->utf8 = format[0] == 'u' || format[0] == 'U' || strcmp(format, "vu") == 0;
			strlcpy(type->name, simple[i].name, sizeof(type->name));
			return true;
		}
	snprintf(type->name, sizeof(type->name), "format \"%.60s\"", format);
	if (format[0] == 'd' && format[1] == ':')
	{
		int			bits = 128;
		int			consumed = 0;

		if (sscanf(format, "d:%d,%d%n,%d%n", &type->precision, &type->scale, &consumed,
				   &bits, &consumed) < 2 || format[consumed] != '\0' ||
			(bits != 128 && bits != 256) || type->precision < 1 ||
			type->scale < -NUMERIC_MAX_DISPLAY_SCALE || type->scale > NUMERIC_MAX_DISPLAY_SCALE)
			return false;
		type->kind = AK_DECIMAL;
		type->width = bits / 8;
		snprintf(type->name, sizeof(type->name), "decimal%d(%d, %d)", bits, type->precision,
				 type->scale);
		return true;
	}
	if (strcmp(format, "+l") == 0 || strcmp(format, "+L") == 0 ||
		strncmp(format, "+w:", 3) == 0)
	{
		type->kind = AK_LIST;
		type->width = format[1] == 'l' ? 4 : format[1] == 'L' ? 8 : 0;
		if (format[1] == 'w')
		{
			type->list_size = atoi(format + 3);
			if (type->list_size < 0)
				return false;
		}
		strlcpy(type->name, format[1] == 'l' ? "list" : format[1] == 'L' ? "large_list" :
				"fixed_size_list", sizeof(type->name));
		return true;
	}
	if (format[0] == 'w' && format[1] == ':')
	{
		type->width = atoi(format + 2);
		if (type->width < 1)
			return false;
		type->kind = AK_FIXED_BINARY;
		snprintf(type->name, sizeof(type->name), "fixed_size_binary(%d)", type->width);
		return true;
	}
	if (format[0] == 't' && format[1] != '\0' && format[2] != '\0')
	{
		type->unit_ns = time_unit_ns(format[2]);
		if (type->unit_ns == 0)
			return false;
		if (format[1] == 't' && format[3] == '\0')
		{
			/* time32 is s or ms, time64 us or ns */
			type->kind = AK_TIME;
			type->width = type->unit_ns >= 1000000 ? 4 : 8;
			snprintf(type->name, sizeof(type->name), "time%d[%s]", type->width * 8,
					 unit_name(type->unit_ns));
			return true;
		}
		if (format[1] == 'D' && format[3] == '\0')
		{
			type->kind = AK_DURATION;
			type->width = 8;
			snprintf(type->name, sizeof(type->name), "duration[%s]", unit_name(type->unit_ns));
			return true;
		}
		if (format[1] == 's' && format[3] == ':')
		{
			type->kind = AK_TIMESTAMP;
			type->width = 8;
			type->zoned = format[4] != '\0';
			if (type->zoned)
				snprintf(type->name, sizeof(type->name), "timestamp[%s, tz=%.40s]",
						 unit_name(type->unit_ns), format + 4);
			else
				snprintf(type->name, sizeof(type->name), "timestamp[%s]",
						 unit_name(type->unit_ns));
			return true;
		}
	}
	return false;
}

/* Whether values of an Arrow type go into a column of basetype exactly. */
static bool
convertible(const SgArrowType *type, Oid basetype)
{
	switch (type->kind)
	{
		case AK_NULL:
			return true;
		case AK_BOOL:
			return basetype == BOOLOID;
		case AK_INT:
		case AK_UINT:
			return basetype == INT2OID || basetype == INT4OID || basetype == INT8OID ||
				basetype == NUMERICOID || basetype == FLOAT4OID || basetype == FLOAT8OID;
		case AK_FLOAT16:
		case AK_FLOAT32:
		case AK_FLOAT64:
			return basetype == FLOAT4OID || basetype == FLOAT8OID || basetype == NUMERICOID;
		case AK_DECIMAL:
			return basetype == NUMERICOID;
		case AK_STRING:
		case AK_VIEW:
			/* Text is read by the column type's input function, as on the row path. */
			return type->utf8 || basetype == BYTEAOID;
		case AK_FIXED_BINARY:
			return basetype == BYTEAOID || (basetype == UUIDOID && type->width == UUID_LEN);
		case AK_DATE32:
		case AK_DATE64:
			return basetype == DATEOID || basetype == TIMESTAMPOID;
		case AK_TIME:
			return basetype == TIMEOID;
		case AK_TIMESTAMP:
			/* A zone's wall clock would need the zone database: instants only. */
			return basetype == TIMESTAMPTZOID || (basetype == TIMESTAMPOID && !type->zoned);
		case AK_DURATION:
		case AK_MONTH_DAY_NANO:
			return basetype == INTERVALOID;
		case AK_LIST:
			return OidIsValid(get_element_type(basetype));	/* elements: bind_field */
	}
	return false;
}

/* ------------------------------------------------------------------------
 * Binding a batch's columns to the needed ones
 * ------------------------------------------------------------------------ */

static void pg_attribute_noreturn()
report_type(SgArrowColumn *column, const char *arrow_type)
{
	Oid			typoid;
	int32		typmod;

	typoid = sgconv_type(column->conv, &typmod);
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("cannot convert Arrow %s column \"%s\" to type %s", arrow_type,
					column->name, format_type_with_typemod(typoid, typmod))));
}

/* Buffers a layout has (view types: at least). */
static int
buffer_count(const SgArrowType *type)
{
	switch (type->kind)
	{
		case AK_NULL:
			return 0;
		case AK_STRING:
			return 3;
		case AK_VIEW:
			return 3;
		case AK_LIST:
			return type->width ? 2 : 1;
		default:
			return 2;
	}
}

/* The shape of one column's array, checked against what its type needs. */
static void
check_array(const struct ArrowArray *array, const SgArrowType *type, int64 needed_length)
{
	int			buffers = buffer_count(type);

	if (array == NULL || array->release == NULL)
		report_malformed("a released or missing column array");
	if (array->length < 0 || array->offset < 0 ||
		array->offset > PG_INT64_MAX - array->length)
		report_malformed("a negative length or offset");
	if (array->length < needed_length)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INCONSISTENT_DESCRIPTOR_INFORMATION),
				 errmsg("Arrow batch columns have different lengths: %lld rows, a column of %lld",
						(long long) needed_length, (long long) array->length)));
	if (type->kind == AK_VIEW ? array->n_buffers < buffers : array->n_buffers != buffers)
		report_malformed("a column with the wrong number of buffers");
	if (buffers > 0 && array->buffers == NULL)
		report_malformed("a column without buffers");
	if (array->length == 0)
		return;
	for (int i = 1; i < buffers; i++)
		if (array->buffers[i] == NULL && !(type->kind == AK_VIEW && i == 2))
			report_malformed("a column with a missing data buffer");
	if (type->kind == AK_VIEW && array->buffers[array->n_buffers - 1] == NULL &&
		array->n_buffers > 3)
		report_malformed("a view column without its buffer sizes");
}

/* How a column reads the values of an Arrow field (recursively: list elements). */
static void
bind_field(SgArrowReader *reader, SgArrowColumn *column, const struct ArrowSchema *field)
{
	column->dictionary = field->dictionary != NULL;
	if (column->dictionary)
	{
		if (!parse_format(field->format, &column->index_type) ||
			(column->index_type.kind != AK_INT && column->index_type.kind != AK_UINT))
			report_malformed("a dictionary with a non-integer index type");
		field = field->dictionary;
	}
	if (!parse_format(field->format, &column->type))
		report_type(column, column->type.name);
	if (!convertible(&column->type, column->basetype))
		report_type(column, column->type.name);
	if (column->type.kind == AK_LIST)
	{
		Oid			elemtype = get_element_type(column->basetype);
		SgArrowColumn *element = column->element;

		if (field->n_children != 1 || field->children == NULL || field->children[0] == NULL)
			report_malformed("a list without its value field");
		if (element == NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(reader->context);

			element = palloc0(sizeof(SgArrowColumn));
			element->name = column->name;
			element->conv = sgconv_create(elemtype, column->typmod);
			element->typmod = column->typmod;
			element->basetype = getBaseTypeAndTypmod(elemtype, &element->typmod);
			get_typlenbyvalalign(elemtype, &column->elmlen, &column->elmbyval,
								 &column->elmalign);
			column->element = element;
			MemoryContextSwitchTo(old);
		}
		/* One dimension: a list of lists is not a PostgreSQL array of arrays. */
		bind_field(reader, element, field->children[0]);
		if (element->type.kind == AK_LIST)
			report_type(column, "list of lists");
	}
}

/* A column's array in the current batch, checked (recursively: list elements). */
static void
bind_column_array(SgArrowColumn *column, const struct ArrowArray *array, int64 needed)
{
	column->array = array;
	check_array(array, column->dictionary ? &column->index_type : &column->type, needed);
	column->values = array;
	if (column->dictionary)
	{
		check_array(array->dictionary, &column->type, 0);
		column->values = array->dictionary;
	}
	if (column->type.kind == AK_LIST)
	{
		const struct ArrowArray *values = column->values;

		if (values->n_children != 1 || values->children == NULL)
			report_malformed("a list array without its values");
		/* the lists' ends are checked against the values' length as they are read */
		bind_column_array(column->element, values->children[0], 0);
	}
}

/* Per batch schema: which of its columns each needed column reads, and how. */
static void
bind_schema(SgArrowReader *reader, const struct ArrowSchema *schema)
{
	if (schema->format == NULL || strcmp(schema->format, "+s") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("an Arrow array yielded by execute() must be a record batch (a struct array), not format \"%s\"",
						schema->format ? schema->format : "(null)")));
	if (schema->n_children < 0 || (schema->n_children > 0 && schema->children == NULL))
		report_malformed("a schema without its columns");
	for (int c = 0; c < reader->ncolumns; c++)
	{
		SgArrowColumn *column = &reader->columns[c];

		column->child = -1;
		for (int64 i = 0; i < schema->n_children; i++)
		{
			const struct ArrowSchema *field = schema->children[i];

			if (field == NULL)
				report_malformed("a missing column schema");
			if (field->name == NULL || strcmp(field->name, column->name) != 0)
				continue;
			column->child = (int) i;
			bind_field(reader, column, field);
			break;
		}
	}
}

/* Per batch: its column arrays, checked. */
static void
bind_array(SgArrowReader *reader)
{
	const struct ArrowArray *batch = &reader->array;
	int64		needed = batch->offset + batch->length;

	if (batch->length < 0 || batch->offset < 0 || batch->offset > PG_INT64_MAX - batch->length)
		report_malformed("a negative length or offset");
	if (batch->n_children != reader->schema.n_children ||
		(batch->n_children > 0 && batch->children == NULL))
		report_malformed("a batch whose columns do not match its schema");
	if (batch->n_buffers != 1 || batch->buffers == NULL)
		report_malformed("a record batch with the wrong number of buffers");
	for (int c = 0; c < reader->ncolumns; c++)
	{
		SgArrowColumn *column = &reader->columns[c];
		if (column->child < 0)
			continue;
		bind_column_array(column, batch->children[column->child], needed);
	}
	reader->row = 0;
}

/* ------------------------------------------------------------------------
 * Values
 * ------------------------------------------------------------------------ */

static inline bool
bit_set(const void *bitmap, int64 index)
{
	return (((const uint8 *) bitmap)[index >> 3] >> (index & 7)) & 1;
}

static inline bool
is_null(const struct ArrowArray *array, int64 index)
{
	return array->n_buffers > 0 && array->buffers[0] != NULL &&
		!bit_set(array->buffers[0], index);
}

static int64
signed_at(const void *data, int width, int64 index)
{
	switch (width)
	{
		case 1:
			return ((const int8 *) data)[index];
		case 2:
			return ((const int16 *) data)[index];
		case 4:
			return ((const int32 *) data)[index];
		default:
			return ((const int64 *) data)[index];
	}
}

static uint64
unsigned_at(const void *data, int width, int64 index)
{
	switch (width)
	{
		case 1:
			return ((const uint8 *) data)[index];
		case 2:
			return ((const uint16 *) data)[index];
		case 4:
			return ((const uint32 *) data)[index];
		default:
			return ((const uint64 *) data)[index];
	}
}

static void pg_attribute_noreturn()
report_out_of_range(Oid typoid)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value out of range for type %s", format_type_be(typoid))));
}

static Datum
integer_datum(SgArrowColumn *column, bool negative, uint64 magnitude)
{
	char		text[32];

	switch (column->basetype)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			{
				int64		min = column->basetype == INT2OID ? PG_INT16_MIN :
					column->basetype == INT4OID ? PG_INT32_MIN : PG_INT64_MIN;
				int64		max = column->basetype == INT2OID ? PG_INT16_MAX :
					column->basetype == INT4OID ? PG_INT32_MAX : PG_INT64_MAX;
				int64		value;

				if (negative ? magnitude > (uint64) -(min + 1) + 1 : magnitude > (uint64) max)
					report_out_of_range(column->basetype);
				value = negative ? (int64) (0 - magnitude) : (int64) magnitude;
				return column->basetype == INT8OID ? Int64GetDatum(value) :
					column->basetype == INT4OID ? Int32GetDatum((int32) value) :
					Int16GetDatum((int16) value);
			}
		case FLOAT4OID:
			return Float4GetDatum(sgconv_float4(negative ? -(double) magnitude : (double) magnitude));
		case FLOAT8OID:
			return Float8GetDatum(negative ? -(double) magnitude : (double) magnitude);
		default:
			snprintf(text, sizeof(text), "%s" UINT64_FORMAT, negative ? "-" : "", magnitude);
			return sgconv_from_cstring(column->conv, text);
	}
}

static double
half_to_double(uint16 half)
{
	int			exponent = (half >> 10) & 0x1f;
	int			mantissa = half & 0x3ff;
	double		value;

	if (exponent == 0)
		value = ldexp(mantissa, -24);
	else if (exponent == 31)
		value = mantissa ? NAN : INFINITY;
	else
		value = ldexp(mantissa + 1024, exponent - 25);
	return (half & 0x8000) ? -value : value;
}

static Datum
float_datum(SgArrowColumn *column, double value)
{
	switch (column->basetype)
	{
		case FLOAT4OID:
			return Float4GetDatum(sgconv_float4(value));
		case FLOAT8OID:
			return Float8GetDatum(value);
		default:
			{
				/* The row path reads str(float): the same text, so the same scale. */
				char	   *text = PyOS_double_to_string(value, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
				char	   *copy;

				if (text == NULL)
					sgfdw_report_python_error(0, "formatting a float");
				copy = pstrdup(text);
				PyMem_Free(text);
				return sgconv_from_cstring(column->conv, copy);
			}
	}
}

/* A decimal128/256 (two's complement, native order) as exact decimal text. */
static Datum
decimal_datum(SgArrowColumn *column, const void *data, int64 index)
{
	int			nwords = column->type.width / 4;
	uint32		words[8];
	bool		negative;
	char		digits[100];
	int			ndigits = 0;
	int			scale = column->type.scale;
	char	   *text;
	char	   *out;

	memcpy(words, (const char *) data + index * column->type.width, column->type.width);
	negative = (words[nwords - 1] & 0x80000000) != 0;
	if (negative)
	{
		uint32		carry = 1;

		for (int i = 0; i < nwords; i++)
		{
			uint64		sum = (uint64) (uint32) ~words[i] + carry;

			words[i] = (uint32) sum;
			carry = (uint32) (sum >> 32);
		}
	}
	/* Repeated division by 10^9, most significant word first. */
	for (;;)
	{
		uint64		remainder = 0;
		bool		zero = true;

		for (int i = nwords - 1; i >= 0; i--)
		{
			uint64		current = (remainder << 32) | words[i];

			words[i] = (uint32) (current / 1000000000);
			remainder = current % 1000000000;
			zero = zero && words[i] == 0;
		}
		for (int d = 0; d < 9; d++)
		{
			digits[ndigits++] = '0' + remainder % 10;
			remainder /= 10;
		}
		if (zero)
			break;
	}
	while (ndigits > 1 && digits[ndigits - 1] == '0')
		ndigits--;
	text = out = palloc(ndigits + Abs(scale) + 4);
	if (negative)
		*out++ = '-';
	/* digits are least significant first */
	for (int i = Max(ndigits, scale + 1) - 1; i >= 0; i--)
	{
		*out++ = i < ndigits ? digits[i] : '0';
		if (i == scale && scale > 0)
			*out++ = '.';
	}
	for (int i = scale; i < 0; i++)
		*out++ = '0';
	*out = '\0';
	return sgconv_from_cstring(column->conv, text);
}

/* Bytes of a string/binary value, checked against the offsets around them. */
static const char *
string_at(SgArrowColumn *column, const struct ArrowArray *array, int64 index, int64 *size)
{
	int64		start,
				end;

	if (column->type.kind == AK_VIEW)
	{
		const char *view = (const char *) array->buffers[1] + index * 16;
		int32		length;
		int32		buffer,
					offset;
		int64		ndata = array->n_buffers - 3;

		memcpy(&length, view, 4);
		if (length < 0)
			report_malformed("a negative string length");
		*size = length;
		if (length <= 12)
			return view + 4;
		memcpy(&buffer, view + 8, 4);
		memcpy(&offset, view + 12, 4);
		if (buffer < 0 || buffer >= ndata || offset < 0 ||
			(int64) offset + length > ((const int64 *) array->buffers[array->n_buffers - 1])[buffer] ||
			array->buffers[2 + buffer] == NULL)
			report_malformed("a string view outside its data buffer");
		return (const char *) array->buffers[2 + buffer] + offset;
	}
	if (column->type.kind == AK_FIXED_BINARY)
	{
		*size = column->type.width;
		return (const char *) array->buffers[1] + index * column->type.width;
	}
	start = signed_at(array->buffers[1], column->type.width, index);
	end = signed_at(array->buffers[1], column->type.width, index + 1);
	if (start < 0 || end < start)
		report_malformed("string offsets out of order");
	*size = end - start;
	return (const char *) array->buffers[2] + start;
}

static Datum
string_datum(SgArrowColumn *column, const char *data, int64 size)
{
	char	   *copy;

	if (size > MaxAllocSize - VARHDRSZ - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("value too large for type %s: %lld bytes",
						format_type_be(column->basetype), (long long) size),
				 errdetail("A PostgreSQL value is limited to 1 GB.")));
	if (column->basetype == BYTEAOID && !column->type.utf8)
	{
		bytea	   *result = palloc(size + VARHDRSZ);

		SET_VARSIZE(result, size + VARHDRSZ);
		memcpy(VARDATA(result), data, size);
		return PointerGetDatum(result);
	}
	if (column->basetype == UUIDOID && column->type.kind == AK_FIXED_BINARY)
	{
		pg_uuid_t  *result = palloc(sizeof(pg_uuid_t));

		memcpy(result->data, data, UUID_LEN);
		return UUIDPGetDatum(result);
	}
	/* Arrow strings are UTF-8 by definition, but come from anywhere: checked (NUL too). */
	{
		int			valid = pg_encoding_verifymbstr(PG_UTF8, data, (int) size);

		if (valid != size)
			report_invalid_encoding(PG_UTF8, data + valid, (int) size - valid);
	}
	if (GetDatabaseEncoding() != PG_UTF8)
		copy = pg_any_to_server(data, (int) size, PG_UTF8);
	else
		copy = NULL;
	if (column->basetype == TEXTOID && column->typmod < 0 && copy == NULL)
		return PointerGetDatum(cstring_to_text_with_len(data, (int) size));
	if (copy == NULL || copy == data)
		copy = pnstrdup(data, size);
	return sgconv_from_cstring(column->conv, copy);
}

static void pg_attribute_noreturn()
report_datetime_range(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("%s out of range", what)));
}

/*
 * value units of unit_ns as microseconds, the sub-microsecond digits rounded as
 * PostgreSQL's input rounds a written fraction of a second (rint of the fraction, a
 * double, times 10^6).
 */
static int64
to_microseconds(int64 value, int64 unit_ns, const char *what)
{
	int64		result;

	if (unit_ns >= 1000)
	{
		if (pg_mul_s64_overflow(value, unit_ns / 1000, &result))
			report_datetime_range(what);
		return result;
	}
	else
	{
		int64		seconds = value / INT64CONST(1000000000);
		int64		nanos = value % INT64CONST(1000000000);

		if (nanos < 0)
		{
			nanos += INT64CONST(1000000000);
			seconds--;
		}
		return seconds * USECS_PER_SEC + (int64) rint((double) nanos / 1e9 * 1e6);
	}
}

static Datum
datetime_datum(SgArrowColumn *column, int64 value)
{
	const SgArrowType *type = &column->type;
	int64		usecs;

	switch (type->kind)
	{
		case AK_DATE32:
		case AK_DATE64:
			{
				int64		days = type->kind == AK_DATE32 ? value :
					value / (USECS_PER_DAY / 1000) - (value % (USECS_PER_DAY / 1000) < 0);

				days -= unix_epoch_days;
				if (column->basetype == DATEOID)
				{
					if (!IS_VALID_DATE(days))
						report_datetime_range("date");
					return DateADTGetDatum((DateADT) days);
				}
				if (days < DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE ||
					days > TIMESTAMP_END_JULIAN - POSTGRES_EPOCH_JDATE ||
					!IS_VALID_TIMESTAMP(days * USECS_PER_DAY))
					report_datetime_range("timestamp");
				return TimestampGetDatum(days * USECS_PER_DAY);
			}
		case AK_TIME:
			usecs = to_microseconds(value, type->unit_ns, "time");
			if (usecs < 0 || usecs > USECS_PER_DAY)
				report_datetime_range("time");
			return TimeADTGetDatum(usecs);
		case AK_DURATION:
			{
				Interval   *interval = palloc(sizeof(Interval));
				int64		days;

				usecs = to_microseconds(value, type->unit_ns, "interval");
				/* As the row path's timedelta: days, then 0 <= time < 1 day, signed. */
				days = usecs / USECS_PER_DAY;
				usecs %= USECS_PER_DAY;
				if (usecs < 0)
				{
					usecs += USECS_PER_DAY;
					days--;
				}
				if (days < 0 && usecs > 0)
				{
					days++;
					usecs -= USECS_PER_DAY;
				}
				if (days < PG_INT32_MIN || days > PG_INT32_MAX)
					report_datetime_range("interval");
				interval->month = 0;
				interval->day = (int32) days;
				interval->time = usecs;
				return IntervalPGetDatum(interval);
			}
		default:
			{
				Timestamp	result;

				usecs = to_microseconds(value, type->unit_ns, "timestamp");
				if (pg_sub_s64_overflow(usecs, unix_epoch_days * USECS_PER_DAY, &result) ||
					!IS_VALID_TIMESTAMP(result))
					report_datetime_range("timestamp");
				/* A naive value in a timestamptz column means the session's time zone. */
				if (column->basetype == TIMESTAMPTZOID && !type->zoned)
					return DirectFunctionCall1(timestamp_timestamptz, TimestampGetDatum(result));
				return TimestampGetDatum(result);
			}
	}
}

static Datum column_datum(SgArrowColumn *column, int64 row, bool *isnull);

/* A list as a one-dimensional array of its element type. */
static Datum
list_datum(SgArrowColumn *column, int64 index)
{
	const struct ArrowArray *array = column->values;
	SgArrowColumn *element = column->element;
	int64		start,
				end;
	int			count;
	int			lower = 1;
	Datum	   *values;
	bool	   *nulls;

	if (column->type.width == 0)
	{
		start = index * column->type.list_size;
		end = start + column->type.list_size;
	}
	else
	{
		start = signed_at(array->buffers[1], column->type.width, index);
		end = signed_at(array->buffers[1], column->type.width, index + 1);
	}
	if (start < 0 || end < start || end > element->array->length)
		report_malformed("list offsets outside their values");
	if (end - start > (int64) MaxArraySize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("array size exceeds the maximum allowed (%d)", (int) MaxArraySize)));
	count = (int) (end - start);
	if (count == 0)
		return PointerGetDatum(construct_empty_array(get_element_type(column->basetype)));
	values = palloc(sizeof(Datum) * count);
	nulls = palloc(sizeof(bool) * count);
	for (int i = 0; i < count; i++)
	{
		values[i] = column_datum(element, start + i, &nulls[i]);
		values[i] = sgconv_check_domain(element->conv, values[i], nulls[i]);
	}
	return PointerGetDatum(construct_md_array(values, nulls, 1, &count, &lower,
											  get_element_type(column->basetype),
											  column->elmlen, column->elmbyval,
											  column->elmalign));
}

/* The Datum of the value at index of column->values. */
static Datum
value_datum(SgArrowColumn *column, int64 index)
{
	const struct ArrowArray *array = column->values;
	const void *data = array->n_buffers > 1 ? array->buffers[1] : NULL;

	switch (column->type.kind)
	{
		case AK_NULL:
			break;
		case AK_BOOL:
			return BoolGetDatum(bit_set(data, index));
		case AK_INT:
			{
				int64		value = signed_at(data, column->type.width, index);

				return integer_datum(column, value < 0,
									 value < 0 ? (uint64) 0 - (uint64) value : (uint64) value);
			}
		case AK_UINT:
			return integer_datum(column, false, unsigned_at(data, column->type.width, index));
		case AK_FLOAT16:
			return float_datum(column, half_to_double(((const uint16 *) data)[index]));
		case AK_FLOAT32:
			return float_datum(column, ((const float *) data)[index]);
		case AK_FLOAT64:
			return float_datum(column, ((const double *) data)[index]);
		case AK_DECIMAL:
			return decimal_datum(column, data, index);
		case AK_STRING:
		case AK_VIEW:
		case AK_FIXED_BINARY:
			{
				int64		size;
				const char *bytes = string_at(column, array, index, &size);

				return string_datum(column, bytes, size);
			}
		case AK_DATE32:
		case AK_DATE64:
		case AK_TIME:
		case AK_TIMESTAMP:
		case AK_DURATION:
			return datetime_datum(column, signed_at(data, column->type.width, index));
		case AK_LIST:
			return list_datum(column, index);
		case AK_MONTH_DAY_NANO:
			{
				const char *value = (const char *) data + index * 16;
				Interval   *interval = palloc(sizeof(Interval));
				int64		nanos;

				memcpy(&interval->month, value, 4);
				memcpy(&interval->day, value + 4, 4);
				memcpy(&nanos, value + 8, 8);
				interval->time = to_microseconds(nanos, 1, "interval");
				return IntervalPGetDatum(interval);
			}
	}
	return (Datum) 0;
}

/* One column of the current row; *isnull set. */
static Datum
column_datum(SgArrowColumn *column, int64 row, bool *isnull)
{
	int64		index = column->array->offset + row;

	*isnull = true;
	if (column->type.kind == AK_NULL || is_null(column->array, index))
		return (Datum) 0;
	if (column->dictionary)
	{
		const struct ArrowArray *dictionary = column->values;

		if (column->index_type.kind == AK_UINT)
		{
			uint64		key = unsigned_at(column->array->buffers[1], column->index_type.width, index);

			if (key >= (uint64) dictionary->length)
				report_malformed("a dictionary index out of range");
			index = (int64) key;
		}
		else
		{
			index = signed_at(column->array->buffers[1], column->index_type.width, index);
			if (index < 0 || index >= dictionary->length)
				report_malformed("a dictionary index out of range");
		}
		index += dictionary->offset;
		if (is_null(dictionary, index))
			return (Datum) 0;
	}
	*isnull = false;
	return value_datum(column, index);
}

/* ------------------------------------------------------------------------
 * Capsules, streams and the reader
 * ------------------------------------------------------------------------ */

bool
sgarrow_is_batch(PyObject *item)
{
	PyTypeObject *type = Py_TYPE(item);

	if (PyTuple_Check(item) || PyList_Check(item) || PyDict_Check(item))
		return false;
	return PyObject_HasAttrString((PyObject *) type, "__arrow_c_array__") ||
		PyObject_HasAttrString((PyObject *) type, "__arrow_c_stream__");
}

/* The structure in a capsule, which must not have been moved out (consumed) already. */
static void *
capsule_pointer(PyObject *capsule, const char *name)
{
	void	   *pointer;

	if (!PyCapsule_CheckExact(capsule))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("the Arrow PyCapsule interface returned a %s, not a capsule \"%s\"",
						Py_TYPE(capsule)->tp_name, name)));
	pointer = PyCapsule_GetPointer(capsule, name);
	if (pointer == NULL)
	{
		PyErr_Clear();
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("the Arrow PyCapsule interface returned a capsule not named \"%s\"",
						name)));
	}
	return pointer;
}

static void pg_attribute_noreturn()
report_consumed(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
			 errmsg("the Arrow %s handed over was already released or consumed", what)));
}

/* Calls item.method() as Python, the result checked. */
static PyObject *
call_export(PyObject *item, const char *method)
{
	PyObject   *result;

	SGFDW_ENTER_PYTHON();
	result = PyObject_CallMethod(item, method, NULL);
	SGFDW_LEAVE_PYTHON();
	if (result == NULL)
		sgfdw_report_python_error(ERRCODE_FDW_INVALID_DATA_TYPE, method);
	return result;
}

/*
 * Moves the structures out of the capsules: the reader owns (and releases) them from
 * here on, and the capsules' destructors find them released.
 */
static void
take_array(SgArrowReader *reader, PyObject *item)
{
	PyObject   *pair = call_export(item, "__arrow_c_array__");

	PG_TRY();
	{
		struct ArrowSchema *schema;
		struct ArrowArray *array;

		if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("__arrow_c_array__() must return a pair of capsules")));
		schema = capsule_pointer(PyTuple_GET_ITEM(pair, 0), "arrow_schema");
		array = capsule_pointer(PyTuple_GET_ITEM(pair, 1), "arrow_array");
		if (schema->release == NULL)
			report_consumed("schema");
		if (array->release == NULL)
			report_consumed("array");
		reader->schema = *schema;
		schema->release = NULL;
		reader->array = *array;
		array->release = NULL;
	}
	PG_FINALLY();
	{
		Py_DECREF(pair);
	}
	PG_END_TRY();
}

static void
take_stream(SgArrowReader *reader, PyObject *item)
{
	PyObject   *capsule = call_export(item, "__arrow_c_stream__");

	PG_TRY();
	{
		struct ArrowArrayStream *stream = capsule_pointer(capsule, "arrow_array_stream");

		if (stream->release == NULL)
			report_consumed("stream");
		if (stream->get_schema == NULL || stream->get_next == NULL)
			report_malformed("a stream without its callbacks");
		reader->stream = *stream;
		stream->release = NULL;
	}
	PG_FINALLY();
	{
		Py_DECREF(capsule);
	}
	PG_END_TRY();
}

static void pg_attribute_noreturn()
report_stream_error(SgArrowReader *reader, int code, const char *call)
{
	const char *message = NULL;

	if (reader->stream.get_last_error)
	{
		SGFDW_ENTER_PYTHON();
		message = reader->stream.get_last_error(&reader->stream);
		SGFDW_LEAVE_PYTHON();
	}
	/* A producer in Python may leave its exception set besides. */
	PyErr_Clear();
	ereport(ERROR,
			(errcode(ERRCODE_FDW_ERROR),
			 errmsg("Arrow stream failed in %s: %s", call,
					message ? message : strerror(code))));
}

static void
release_array(SgArrowReader *reader)
{
	if (reader->array.release)
	{
		SGFDW_ENTER_PYTHON();
		reader->array.release(&reader->array);
		SGFDW_LEAVE_PYTHON();
		reader->array.release = NULL;
	}
}

/* The stream's next batch into reader->array; false at its end. */
static bool
next_stream_batch(SgArrowReader *reader)
{
	int			code;

	release_array(reader);
	if (reader->stream.release == NULL)
		return false;
	memset(&reader->array, 0, sizeof(reader->array));
	SGFDW_ENTER_PYTHON();
	code = reader->stream.get_next(&reader->stream, &reader->array);
	SGFDW_LEAVE_PYTHON();
	if (code != 0)
	{
		reader->array.release = NULL;	/* left undefined on error */
		report_stream_error(reader, code, "get_next");
	}
	if (reader->array.release == NULL)
		return false;
	bind_array(reader);
	return true;
}

SgArrowReader *
sgarrow_open(int ncolumns, PyObject **names, SgConverter **converters, int *slot_indexes)
{
	SgArrowReader *reader = palloc0(sizeof(SgArrowReader));

	reader->context = CurrentMemoryContext;
	reader->ncolumns = ncolumns;
	reader->columns = palloc0(sizeof(SgArrowColumn) * Max(ncolumns, 1));
	reader->slot_indexes = slot_indexes;
	for (int c = 0; c < ncolumns; c++)
	{
		SgArrowColumn *column = &reader->columns[c];
		int32		typmod;
		Oid			typoid = sgconv_type(converters[c], &typmod);

		column->name = sgfdw_cstring(names[c], "a column name");
		column->conv = converters[c];
		column->typmod = typmod;
		column->basetype = getBaseTypeAndTypmod(typoid, &column->typmod);
	}
	return reader;
}

/*
 * Loads item (a batch or a stream) into the reader, which must be free (closed or new).
 */
void
sgarrow_load(SgArrowReader *reader, PyObject *item)
{
	PyTypeObject *type = Py_TYPE(item);

	if (PyObject_HasAttrString((PyObject *) type, "__arrow_c_array__"))
	{
		take_array(reader, item);
		bind_schema(reader, &reader->schema);
		bind_array(reader);
		return;
	}
	take_stream(reader, item);
	{
		int			code;

		memset(&reader->schema, 0, sizeof(reader->schema));
		SGFDW_ENTER_PYTHON();
		code = reader->stream.get_schema(&reader->stream, &reader->schema);
		SGFDW_LEAVE_PYTHON();
		if (code != 0)
		{
			reader->schema.release = NULL;
			report_stream_error(reader, code, "get_schema");
		}
		if (reader->schema.release == NULL)
			report_malformed("a stream gave a released schema");
	}
	bind_schema(reader, &reader->schema);
	next_stream_batch(reader);
}

bool
sgarrow_next_row(SgArrowReader *reader, Datum *values, bool *nulls, int *current)
{
	const struct ArrowArray *batch = &reader->array;

	while (batch->release == NULL || reader->row >= batch->length)
	{
		if (!next_stream_batch(reader))
		{
			sgarrow_close(reader);
			return false;
		}
	}
	{
		int64		row = batch->offset + reader->row;
		bool		whole_null = is_null(batch, row);

		for (int c = 0; c < reader->ncolumns; c++)
		{
			SgArrowColumn *column = &reader->columns[c];
			int			slot = reader->slot_indexes[c];

			*current = c;
			if (column->child < 0 || whole_null)
			{
				values[slot] = (Datum) 0;
				nulls[slot] = true;
			}
			else
				values[slot] = column_datum(column, row, &nulls[slot]);
			values[slot] = sgconv_check_domain(column->conv, values[slot], nulls[slot]);
		}
	}
	reader->row++;
	/* The last row's values are copies: the batch can go now, and a single one ends. */
	if (reader->row >= batch->length)
		release_array(reader);
	return true;
}

void
sgarrow_close(SgArrowReader *reader)
{
	release_array(reader);
	if (reader->schema.release)
	{
		SGFDW_ENTER_PYTHON();
		reader->schema.release(&reader->schema);
		SGFDW_LEAVE_PYTHON();
		reader->schema.release = NULL;
	}
	if (reader->stream.release)
	{
		SGFDW_ENTER_PYTHON();
		reader->stream.release(&reader->stream);
		SGFDW_LEAVE_PYTHON();
		reader->stream.release = NULL;
	}
}
