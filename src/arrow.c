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
#include "miscadmin.h"
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
	AK_LIST,					/* list, large_list (width: offsets), fixed_size_list */
	AK_STRUCT,					/* into json/jsonb only */
	AK_MAP						/* into json/jsonb only: offsets (width 4) of entries */
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
/*
 * Pairings of an Arrow type and a column type common enough to be read without the
 * general path's per-value dispatch (and checks that hold for the whole batch).
 */
typedef enum SgArrowDirect
{
	AD_NONE,
	AD_INT4,					/* int32 into int4 */
	AD_INT8,					/* int64 into int8 */
	AD_FLOAT8,					/* double into float8 */
	AD_TEXT						/* utf8 (32-bit offsets) checked for the batch, into text */
} SgArrowDirect;

typedef struct SgArrowColumn
{
	const char *name;			/* the foreign table's column name (UTF-8) */
	SgConverter *conv;
	Oid			basetype;
	int32		typmod;
	bool		domain;			/* conv's type is a domain: its constraints checked */
	SgArrowDirect direct;		/* how the current batch's values are read */
	int			child;			/* index among the batch's columns, -1: missing (NULL) */
	SgArrowType type;			/* of the values (the dictionary's, if encoded) */
	SgArrowType index_type;		/* the index type of a dictionary-encoded column */
	bool		dictionary;
	const struct ArrowArray *array; /* in the current batch */
	const struct ArrowArray *values;	/* the dictionary, or the array itself */
	bool		utf8_checked;	/* every string of values is UTF-8 without NUL */
	/*
	 * lists: their values, as a column of the array's element type, or (lists of
	 * lists: a multidimensional array) of the array type again
	 */
	struct SgArrowColumn *element;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	/*
	 * Written as JSON text (a struct, map or list into json/jsonb, and everything
	 * inside it): a list's or map's values (a map's: its entries struct of key and
	 * value) are children[0], a struct's fields its children; key is the field's name
	 * (in the schema) and conv is unset below the column itself.
	 */
	bool		json;
	int			nchildren;
	struct SgArrowColumn *children;
	const char *key;
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
		{"+s", AK_STRUCT, 0, "struct"}, {"+m", AK_MAP, 4, "map"},
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
			/* elements: bind_field */
			return OidIsValid(get_element_type(basetype)) || basetype == JSONOID ||
				basetype == JSONBOID;
		case AK_STRUCT:
		case AK_MAP:
			return basetype == JSONOID || basetype == JSONBOID;
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
		case AK_STRUCT:
			return 1;
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

/* The type of a field's values (a dictionary's) into column; false if not known. */
static bool
read_field_type(SgArrowColumn *column, const struct ArrowSchema **field)
{
	column->dictionary = (*field)->dictionary != NULL;
	if (column->dictionary)
	{
		if (!parse_format((*field)->format, &column->index_type) ||
			(column->index_type.kind != AK_INT && column->index_type.kind != AK_UINT))
			report_malformed("a dictionary with a non-integer index type");
		*field = (*field)->dictionary;
	}
	return parse_format((*field)->format, &column->type);
}

static bool
is_list_field(const struct ArrowSchema *field)
{
	return field->dictionary == NULL && field->format != NULL &&
		(strcmp(field->format, "+l") == 0 || strcmp(field->format, "+L") == 0 ||
		 strncmp(field->format, "+w:", 3) == 0);
}

/* column->children, n of them (kept from the last batch if it had as many). */
static void
make_children(SgArrowReader *reader, SgArrowColumn *column, int64 n)
{
	if (column->children != NULL && column->nchildren == n)
		return;
	if (n < 0 || n > INT_MAX / sizeof(SgArrowColumn))
		report_malformed("a negative or huge number of fields");
	column->children = MemoryContextAllocZero(reader->context,
											  sizeof(SgArrowColumn) * Max(n, 1));
	column->nchildren = (int) n;
	/* the json/jsonb column's type, for messages */
	for (int i = 0; i < n; i++)
		column->children[i].basetype = column->basetype;
}

/*
 * A field written as JSON text into root (json/jsonb), as the row path's json.dumps()
 * writes the field's to_pylist() values: numbers, strings, lists, structs and maps
 * (dicts) of them; anything else (dates, binary, ...) is 42804.
 */
static void
bind_json_field(SgArrowReader *reader, SgArrowColumn *root, SgArrowColumn *column,
				const struct ArrowSchema *field)
{
	if (!read_field_type(column, &field))
		report_type(root, column->type.name);
	column->json = true;
	switch (column->type.kind)
	{
		case AK_NULL:
		case AK_BOOL:
		case AK_INT:
		case AK_UINT:
		case AK_FLOAT16:
		case AK_FLOAT32:
		case AK_FLOAT64:
		case AK_DECIMAL:
			return;
		case AK_STRING:
		case AK_VIEW:
			if (column->type.utf8)
				return;
			break;
		case AK_LIST:
		case AK_MAP:
			if (field->n_children != 1 || field->children == NULL || field->children[0] == NULL)
				report_malformed("a list or map without its value field");
			make_children(reader, column, 1);
			bind_json_field(reader, root, &column->children[0], field->children[0]);
			if (column->type.kind == AK_MAP)
			{
				SgArrowColumn *entries = &column->children[0];
				SgArrowType *key;

				if (entries->type.kind != AK_STRUCT || entries->nchildren != 2 ||
					entries->dictionary)
					report_malformed("a map without its key and value fields");
				/* json.dumps() writes a dict's int keys as strings; others: refused */
				key = &entries->children[0].type;
				if (!((key->kind == AK_STRING || key->kind == AK_VIEW) && key->utf8) &&
					key->kind != AK_INT && key->kind != AK_UINT)
				{
					char		name[sizeof(key->name) + 32];

					snprintf(name, sizeof(name), "map with %s keys", key->name);
					report_type(root, name);
				}
			}
			return;
		case AK_STRUCT:
			if (field->n_children < 0 || (field->n_children > 0 && field->children == NULL))
				report_malformed("a struct without its fields");
			make_children(reader, column, field->n_children);
			for (int i = 0; i < column->nchildren; i++)
			{
				const struct ArrowSchema *child = field->children[i];

				if (child == NULL)
					report_malformed("a missing struct field");
				column->children[i].key = child->name ? child->name : "";
				/* to_pylist() refuses them: a dict cannot hold both */
				for (int j = 0; j < i; j++)
					if (strcmp(column->children[j].key, column->children[i].key) == 0)
						report_type(root, "struct with duplicate field names");
				bind_json_field(reader, root, &column->children[i], child);
			}
			return;
		default:
			break;
	}
	report_type(root, column->type.name);
}

/* How a column reads the values of an Arrow field (recursively: list elements). */
static void
bind_field(SgArrowReader *reader, SgArrowColumn *column, const struct ArrowSchema *field)
{
	const struct ArrowSchema *declared = field;

	if (!read_field_type(column, &field) || !convertible(&column->type, column->basetype))
		report_type(column, column->type.name);
	column->json = false;
	if ((column->basetype == JSONOID || column->basetype == JSONBOID) &&
		(column->type.kind == AK_LIST || column->type.kind == AK_STRUCT ||
		 column->type.kind == AK_MAP))
	{
		bind_json_field(reader, column, column, declared);
		return;
	}
	if (column->type.kind == AK_LIST)
	{
		Oid			elemtype = get_element_type(column->basetype);
		const struct ArrowSchema *child;
		SgArrowColumn *element = column->element;
		bool		nested;

		if (field->n_children != 1 || field->children == NULL || field->children[0] == NULL)
			report_malformed("a list without its value field");
		child = field->children[0];

		/*
		 * Lists of lists are a multidimensional array, but in json[] (as on the row
		 * path) only the outer list is the array, its elements JSON.
		 */
		nested = is_list_field(child) && elemtype != JSONOID && elemtype != JSONBOID;
		if (element == NULL || (element->basetype == column->basetype) != nested)
		{
			MemoryContext old = MemoryContextSwitchTo(reader->context);

			element = palloc0(sizeof(SgArrowColumn));
			element->name = column->name;
			element->typmod = column->typmod;
			if (nested)
			{
				element->conv = column->conv;
				element->basetype = column->basetype;
			}
			else
			{
				element->conv = sgconv_create(elemtype, column->typmod);
				element->basetype = getBaseTypeAndTypmod(elemtype, &element->typmod);
			}
			get_typlenbyvalalign(elemtype, &column->elmlen, &column->elmbyval,
								 &column->elmalign);
			column->element = element;
			MemoryContextSwitchTo(old);
		}
		bind_field(reader, element, child);
	}
}

static bool utf8_strings_valid(const SgArrowColumn *column, const struct ArrowArray *array);

/* Whether the column's values in this batch can be read directly (see SgArrowDirect). */
static SgArrowDirect
direct_reading(const SgArrowColumn *column)
{
	if (column->dictionary || column->json)
		return AD_NONE;
	switch (column->type.kind)
	{
		case AK_INT:
			if (column->type.width == 4 && column->basetype == INT4OID)
				return AD_INT4;
			if (column->type.width == 8 && column->basetype == INT8OID)
				return AD_INT8;
			break;
		case AK_FLOAT64:
			if (column->basetype == FLOAT8OID)
				return AD_FLOAT8;
			break;
		case AK_STRING:
			/* what string_datum does for these, its checks done for the batch */
			if (column->utf8_checked && column->type.width == 4 &&
				column->basetype == TEXTOID && column->typmod < 0 &&
				GetDatabaseEncoding() == PG_UTF8)
				return AD_TEXT;
			break;
		default:
			break;
	}
	return AD_NONE;
}

/* A column's array in the current batch, checked (recursively: nested values). */
static void
bind_column_array(SgArrowColumn *column, const struct ArrowArray *array, int64 needed)
{
	const struct ArrowArray *values;

	column->array = array;
	check_array(array, column->dictionary ? &column->index_type : &column->type, needed);
	column->values = values = array;
	if (column->dictionary)
	{
		check_array(array->dictionary, &column->type, 0);
		column->values = values = array->dictionary;
	}
	/* JSON text checks its strings as it escapes them */
	column->utf8_checked = !column->json && utf8_strings_valid(column, values);
	column->direct = direct_reading(column);
	switch (column->type.kind)
	{
		case AK_LIST:
		case AK_MAP:
			if (values->n_children != 1 || values->children == NULL)
				report_malformed("a list array without its values");
			/* the lists' ends are checked against the values' length as they are read */
			bind_column_array(column->json ? &column->children[0] : column->element,
							  values->children[0], 0);
			break;
		case AK_STRUCT:
			if (values->n_children != column->nchildren ||
				(column->nchildren > 0 && values->children == NULL))
				report_malformed("a struct array whose fields do not match its schema");
			/* a struct's offset applies to its fields */
			for (int i = 0; i < column->nchildren; i++)
				bind_column_array(&column->children[i], values->children[i],
								  values->offset + values->length);
			break;
		default:
			break;
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

/*
 * The digits of a decimal128/256 (two's complement, native order): least significant
 * first, at least one, without leading zeros; returns their count.
 */
static int
decimal_digits(SgArrowColumn *column, const void *data, int64 index, char *digits,
			   bool *negative)
{
	int			nwords = column->type.width / 4;
	uint32		words[8];
	int			ndigits = 0;

	memcpy(words, (const char *) data + index * column->type.width, column->type.width);
	*negative = (words[nwords - 1] & 0x80000000) != 0;
	if (*negative)
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
	return ndigits;
}

/* A decimal as exact numeric text. */
static Datum
decimal_datum(SgArrowColumn *column, const void *data, int64 index)
{
	char		digits[100];
	bool		negative;
	int			ndigits = decimal_digits(column, data, index, digits, &negative);
	int			scale = column->type.scale;
	char	   *text;
	char	   *out;

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

/* A decimal as str() of the row path's Decimal writes it (json.dumps of a Decimal). */
static void
append_python_decimal(StringInfo buf, SgArrowColumn *column, const void *data, int64 index)
{
	char		digits[100];
	bool		negative;
	int			ndigits = decimal_digits(column, data, index, digits, &negative);
	int			exponent = -column->type.scale;
	int			leftdigits = exponent + ndigits;
	int			dotplace;

	/* Python's Decimal.__str__: plain notation unless the exponent is large. */
	dotplace = exponent <= 0 && leftdigits > -6 ? leftdigits : 1;
	if (negative)
		appendStringInfoChar(buf, '-');
	if (dotplace <= 0)
	{
		appendStringInfoString(buf, "0.");
		for (int i = dotplace; i < 0; i++)
			appendStringInfoChar(buf, '0');
	}
	for (int i = ndigits - 1; i >= 0; i--)
	{
		if (ndigits - 1 - i == dotplace && dotplace > 0)
			appendStringInfoChar(buf, '.');
		appendStringInfoChar(buf, digits[i]);
	}
	for (int i = ndigits; i < dotplace; i++)
		appendStringInfoChar(buf, '0');
	if (leftdigits != dotplace)
		appendStringInfo(buf, "E%+d", leftdigits - dotplace);
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

/*
 * Whether all strings of a utf8 array that are not NULL (unused dictionary entries too)
 * are UTF-8 without NUL, checked once per batch: the data from the first to the last of
 * them at once, and each starting on a character, so that each alone is valid as well.
 * False leaves the check to each value as it is read, which then fails or not exactly
 * as without this (bytes under a NULL may be anything, and are still never read).
 */
static bool
utf8_strings_valid(const SgArrowColumn *column, const struct ArrowArray *array)
{
	int			width = column->type.width;
	const void *offsets;
	const unsigned char *data;
	int64		first = -1,
				last = 0,
				end;

	if (column->type.kind != AK_STRING || !column->type.utf8)
		return false;
	if (array->length == 0)
		return true;
	offsets = array->buffers[1];
	data = array->buffers[2];
	end = signed_at(offsets, width, array->offset);
	for (int64 i = array->offset; i < array->offset + array->length; i++)
	{
		int64		start = end;

		end = signed_at(offsets, width, i + 1);
		if (start < 0 || end < start)
			return false;
		if (end == start || is_null(array, i))
			continue;
		/* a continuation byte: the string starts inside a character */
		if ((data[start] & 0xC0) == 0x80)
			return false;
		if (first < 0)
			first = start;
		last = end;
	}
	if (first < 0)
		return true;
	if (last - first > INT_MAX)
		return false;
	return pg_encoding_verifymbstr(PG_UTF8, (const char *) data + first,
								   (int) (last - first)) == last - first;
}

static Datum
string_datum(SgArrowColumn *column, const char *data, int64 size)
{
	char	   *copy;

	sgconv_check_value_size(column->basetype, -1, size);
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
	if (!column->utf8_checked)
	{
		int			valid = pg_encoding_verifymbstr(PG_UTF8, data, (int) size);

		if (valid != size)
			report_invalid_encoding(PG_UTF8, data + valid, (int) size - valid);
	}
	if (GetDatabaseEncoding() != PG_UTF8)
		copy = pg_any_to_server(data, (int) size, PG_UTF8);
	else
		copy = NULL;

	/*
	 * What text's and varchar's input would make, without the copy to a C string: a
	 * varchar(n) string of at most n bytes has at most n characters.
	 */
	if (copy == NULL &&
		((column->basetype == TEXTOID && column->typmod < 0) ||
		 (column->basetype == VARCHAROID &&
		  (column->typmod < (int32) VARHDRSZ || size <= column->typmod - (int32) VARHDRSZ))))
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
static bool resolve_index(SgArrowColumn *column, int64 row, int64 *index);

/* The values of a list (or map) at index: their first row in its values, and count. */
static int64
list_bounds(SgArrowColumn *column, int64 index, int64 *start)
{
	const struct ArrowArray *array = column->values;
	const struct ArrowArray *values = (column->json ? &column->children[0] :
									   column->element)->array;
	int64		end;

	if (column->type.width == 0)
	{
		*start = index * column->type.list_size;
		end = *start + column->type.list_size;
	}
	else
	{
		*start = signed_at(array->buffers[1], column->type.width, index);
		end = signed_at(array->buffers[1], column->type.width, index + 1);
	}
	if (*start < 0 || end < *start || end > values->length)
		report_malformed("list offsets outside their values");
	return end - *start;
}

static void pg_attribute_noreturn()
report_ragged(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
			 errmsg("multidimensional arrays must have sub-arrays with matching dimensions")));
}

/*
 * The leaf values of nested lists into values/nulls (from *count on), each level's
 * lists as long as dims says; as the row path, a NULL where a list is expected, or a
 * list where a value is, is ragged.
 */
static void
collect_list(SgArrowColumn *column, int64 index, int depth, int ndim, const int *dims,
			 Datum *values, bool *nulls, int *count)
{
	SgArrowColumn *element = column->element;
	int64		start;
	int64		length = list_bounds(column, index, &start);

	if (length != dims[depth])
		report_ragged();
	for (int64 i = 0; i < length; i++)
	{
		int64		at;
		bool		sublist = element->type.kind == AK_LIST && !element->json &&
			resolve_index(element, start + i, &at);

		if (depth + 1 < ndim)
		{
			if (!sublist)
				report_ragged();
			collect_list(element, at, depth + 1, ndim, dims, values, nulls, count);
			continue;
		}
		if (sublist)
			report_ragged();
		values[*count] = column_datum(element, start + i, &nulls[*count]);
		values[*count] = sgconv_check_domain(element->conv, values[*count], nulls[*count]);
		(*count)++;
	}
}

/*
 * A list as an array of the column's element type; lists of lists as a
 * multidimensional array, its shape from the first lists (as on the row path).
 */
static Datum
list_datum(SgArrowColumn *column, int64 index)
{
	int			dims[MAXDIM];
	int			lbs[MAXDIM];
	int			ndim = 0;
	int			nitems;
	int			count = 0;
	SgArrowColumn *level = column;
	int64		at = index;
	Datum	   *values;
	bool	   *nulls;
	Oid			elemtype = get_element_type(column->basetype);

	for (;;)
	{
		int64		start;
		int64		length = list_bounds(level, at, &start);

		if (ndim == MAXDIM)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("number of array dimensions exceeds the maximum allowed (%d)",
							MAXDIM)));
		if (length > (int64) MaxArraySize)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("array size exceeds the maximum allowed (%d)", (int) MaxArraySize)));
		lbs[ndim] = 1;
		dims[ndim++] = (int) length;
		/* in json[], lists in the array are JSON values */
		if (length == 0 || level->element->type.kind != AK_LIST || level->element->json ||
			!resolve_index(level->element, start, &at))
			break;
		level = level->element;
	}
	nitems = ArrayGetNItems(ndim, dims);
	ArrayCheckBounds(ndim, dims, lbs);
	values = palloc_extended(sizeof(Datum) * Max(nitems, 1), MCXT_ALLOC_HUGE);
	nulls = palloc_extended(sizeof(bool) * Max(nitems, 1), MCXT_ALLOC_HUGE);
	/* Also an empty array: [[], [1, 2]] is ragged, not empty. */
	collect_list(column, index, 0, ndim, dims, values, nulls, &count);
	if (nitems == 0)
		return PointerGetDatum(construct_empty_array(elemtype));
	return PointerGetDatum(construct_md_array(values, nulls, ndim, dims, lbs, elemtype,
											  column->elmlen, column->elmbyval,
											  column->elmalign));
}

/* ---- JSON text of structs, maps and lists (json.dumps() of their to_pylist()) ---- */

static void append_json(StringInfo buf, SgArrowColumn *column, int64 row);

/*
 * A string as json.dumps(ensure_ascii=False) writes it: quotes, backslashes and
 * control characters escaped, the rest as is. UTF-8 checked; NUL is \u0000 there.
 */
static void
append_json_string(StringInfo buf, const char *data, int64 size)
{
	int64		done = 0;

	appendStringInfoChar(buf, '"');
	while (done < size)
	{
		int			valid = pg_encoding_verifymbstr(PG_UTF8, data + done,
													(int) Min(size - done, INT_MAX));

		for (int i = 0; i < valid; i++)
		{
			unsigned char c = data[done + i];

			switch (c)
			{
				case '"':
					appendStringInfoString(buf, "\\\"");
					break;
				case '\\':
					appendStringInfoString(buf, "\\\\");
					break;
				case '\n':
					appendStringInfoString(buf, "\\n");
					break;
				case '\r':
					appendStringInfoString(buf, "\\r");
					break;
				case '\t':
					appendStringInfoString(buf, "\\t");
					break;
				case '\b':
					appendStringInfoString(buf, "\\b");
					break;
				case '\f':
					appendStringInfoString(buf, "\\f");
					break;
				default:
					if (c < 0x20)
						appendStringInfo(buf, "\\u%04x", c);
					else
						appendStringInfoChar(buf, (char) c);
			}
		}
		done += valid;
		if (done < size && data[done] == '\0')
		{
			appendStringInfoString(buf, "\\u0000");
			done++;
		}
		else if (done < size)
			report_invalid_encoding(PG_UTF8, data + done, (int) Min(size - done, INT_MAX));
	}
	appendStringInfoChar(buf, '"');
}

/* A float as json.dumps() writes it (repr(), NaN and Infinity as Python spells them). */
static void
append_json_float(StringInfo buf, double value)
{
	char	   *text;

	if (isnan(value))
	{
		appendStringInfoString(buf, "NaN");
		return;
	}
	if (isinf(value))
	{
		appendStringInfoString(buf, value < 0 ? "-Infinity" : "Infinity");
		return;
	}
	text = PyOS_double_to_string(value, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
	if (text == NULL)
		sgfdw_report_python_error(0, "formatting a float");
	appendStringInfoString(buf, text);
	PyMem_Free(text);
}

/* A map key as a JSON object key: strings as they are, integers as their digits. */
static void
append_json_key(StringInfo buf, SgArrowColumn *key, int64 row)
{
	int64		index;

	if (!resolve_index(key, row, &index))
		appendStringInfoString(buf, "\"null\"");
	else if (key->type.kind == AK_INT)
		appendStringInfo(buf, "\"" INT64_FORMAT "\"",
						 signed_at(key->values->buffers[1], key->type.width, index));
	else if (key->type.kind == AK_UINT)
		appendStringInfo(buf, "\"" UINT64_FORMAT "\"",
						 unsigned_at(key->values->buffers[1], key->type.width, index));
	else
	{
		int64		size;
		const char *data = string_at(key, key->values, index, &size);

		sgconv_check_value_size(key->basetype, -1, size);
		append_json_string(buf, data, size);
	}
}

/*
 * A map as the dict to_pylist() makes of it: a repeated key keeps its first place and
 * takes its last value. Keys are compared pairwise (maps are small).
 */
static void
append_json_map(StringInfo buf, SgArrowColumn *column, int64 index)
{
	SgArrowColumn *entries = &column->children[0];
	int64		start;
	int64		length = list_bounds(column, index, &start);
	StringInfoData keys;
	int		   *key_starts = palloc(sizeof(int) * (length + 1));
	bool		first = true;

	initStringInfo(&keys);
	for (int64 i = 0; i < length; i++)
	{
		key_starts[i] = keys.len;
		append_json_key(&keys, &entries->children[0], entries->array->offset + start + i);
	}
	key_starts[length] = keys.len;
	appendStringInfoChar(buf, '{');
	for (int64 i = 0; i < length; i++)
	{
		const char *key = keys.data + key_starts[i];
		int			key_length = key_starts[i + 1] - key_starts[i];
		int64		last = i;
		bool		repeated = false;

		CHECK_FOR_INTERRUPTS();
		for (int64 j = 0; j < length && !repeated; j++)
			if (j != i && key_starts[j + 1] - key_starts[j] == key_length &&
				memcmp(keys.data + key_starts[j], key, key_length) == 0)
			{
				if (j < i)
					repeated = true;
				else
					last = j;
			}
		if (repeated)
			continue;
		if (!first)
			appendStringInfoString(buf, ", ");
		first = false;
		appendBinaryStringInfo(buf, key, key_length);
		appendStringInfoString(buf, ": ");
		append_json(buf, &entries->children[1], entries->array->offset + start + last);
	}
	appendStringInfoChar(buf, '}');
	pfree(keys.data);
	pfree(key_starts);
}

/* The value at index of column->values (not NULL) as JSON text. */
static void
append_json_value(StringInfo buf, SgArrowColumn *column, int64 index)
{
	const struct ArrowArray *array = column->values;
	const void *data = array->n_buffers > 1 ? array->buffers[1] : NULL;

	switch (column->type.kind)
	{
		case AK_BOOL:
			appendStringInfoString(buf, bit_set(data, index) ? "true" : "false");
			break;
		case AK_INT:
			appendStringInfo(buf, INT64_FORMAT, signed_at(data, column->type.width, index));
			break;
		case AK_UINT:
			appendStringInfo(buf, UINT64_FORMAT, unsigned_at(data, column->type.width, index));
			break;
		case AK_FLOAT16:
			append_json_float(buf, half_to_double(((const uint16 *) data)[index]));
			break;
		case AK_FLOAT32:
			append_json_float(buf, ((const float *) data)[index]);
			break;
		case AK_FLOAT64:
			append_json_float(buf, ((const double *) data)[index]);
			break;
		case AK_DECIMAL:
			append_python_decimal(buf, column, data, index);
			break;
		case AK_STRING:
		case AK_VIEW:
			{
				int64		size;
				const char *bytes = string_at(column, array, index, &size);

				sgconv_check_value_size(column->basetype, -1, size);
				append_json_string(buf, bytes, size);
				break;
			}
		case AK_LIST:
			{
				int64		start;
				int64		length = list_bounds(column, index, &start);

				appendStringInfoChar(buf, '[');
				for (int64 i = 0; i < length; i++)
				{
					if (i > 0)
						appendStringInfoString(buf, ", ");
					append_json(buf, &column->children[0], start + i);
				}
				appendStringInfoChar(buf, ']');
				break;
			}
		case AK_STRUCT:
			appendStringInfoChar(buf, '{');
			for (int i = 0; i < column->nchildren; i++)
			{
				SgArrowColumn *field = &column->children[i];

				if (i > 0)
					appendStringInfoString(buf, ", ");
				append_json_string(buf, field->key, strlen(field->key));
				appendStringInfoString(buf, ": ");
				/* a struct's offset applies to its fields: index includes it */
				append_json(buf, field, index);
			}
			appendStringInfoChar(buf, '}');
			break;
		case AK_MAP:
			append_json_map(buf, column, index);
			break;
		default:
			/* bind_json_field took no other kind */
			report_malformed("an Arrow type without a JSON form");
	}
}

static void
append_json(StringInfo buf, SgArrowColumn *column, int64 row)
{
	int64		index;

	if (!resolve_index(column, row, &index))
		appendStringInfoString(buf, "null");
	else
		append_json_value(buf, column, index);
}

/* A struct, map or list as json/jsonb, through the type's input as the row path. */
static Datum
json_datum(SgArrowColumn *column, int64 index)
{
	StringInfoData buf;
	char	   *text;

	initStringInfo(&buf);
	append_json_value(&buf, column, index);
	text = buf.data;
	if (GetDatabaseEncoding() != PG_UTF8)
		text = pg_any_to_server(buf.data, buf.len, PG_UTF8);
	return sgconv_from_cstring(column->conv, text);
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
			if (!column->json)
				return list_datum(column, index);
			/* FALLTHROUGH */
		case AK_STRUCT:
		case AK_MAP:
			return json_datum(column, index);
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

/*
 * Where row (of column->array, the parent's offset included) is in column->values,
 * the array's offset and a dictionary applied; false if it is NULL.
 */
static bool
resolve_index(SgArrowColumn *column, int64 row, int64 *index)
{
	*index = column->array->offset + row;
	if (column->type.kind == AK_NULL || is_null(column->array, *index))
		return false;
	if (column->dictionary)
	{
		const struct ArrowArray *dictionary = column->values;

		if (column->index_type.kind == AK_UINT)
		{
			uint64		key = unsigned_at(column->array->buffers[1], column->index_type.width,
										  *index);

			if (key >= (uint64) dictionary->length)
				report_malformed("a dictionary index out of range");
			*index = (int64) key;
		}
		else
		{
			*index = signed_at(column->array->buffers[1], column->index_type.width, *index);
			if (*index < 0 || *index >= dictionary->length)
				report_malformed("a dictionary index out of range");
		}
		*index += dictionary->offset;
		if (is_null(dictionary, *index))
			return false;
	}
	return true;
}

/* One column of the current row; *isnull set. */
static Datum
column_datum(SgArrowColumn *column, int64 row, bool *isnull)
{
	int64		index;

	*isnull = !resolve_index(column, row, &index);
	if (*isnull)
		return (Datum) 0;
	return value_datum(column, index);
}

/* column_datum of a column read directly (column->direct). */
static inline Datum
direct_datum(const SgArrowColumn *column, int64 row, bool *isnull)
{
	const struct ArrowArray *array = column->array;
	int64		index = array->offset + row;

	*isnull = is_null(array, index);
	if (*isnull)
		return (Datum) 0;
	switch (column->direct)
	{
		case AD_INT4:
			return Int32GetDatum(((const int32 *) array->buffers[1])[index]);
		case AD_INT8:
			return Int64GetDatum(((const int64 *) array->buffers[1])[index]);
		case AD_FLOAT8:
			return Float8GetDatum(((const double *) array->buffers[1])[index]);
		case AD_TEXT:
			{
				/* offsets in order: checked with the batch's UTF-8 */
				const int32 *offsets = array->buffers[1];
				int32		size = offsets[index + 1] - offsets[index];

				sgconv_check_value_size(TEXTOID, -1, size);
				return PointerGetDatum(cstring_to_text_with_len((const char *) array->buffers[2] +
																offsets[index], size));
			}
		case AD_NONE:
			break;
	}
	return (Datum) 0;
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
	/* A cancel that reached a Python producer (KeyboardInterrupt) is the cancel. */
	CHECK_FOR_INTERRUPTS();
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
		column->domain = column->basetype != typoid;
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
			else if (column->direct != AD_NONE)
				values[slot] = direct_datum(column, row, &nulls[slot]);
			else
				values[slot] = column_datum(column, row, &nulls[slot]);
			if (column->domain)
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
