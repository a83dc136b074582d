/*
 * arrow_abi.h
 *		The Arrow C data interface's structures, written from the published
 *		specification (https://arrow.apache.org/docs/format/CDataInterface.html), shared
 *		by the reader of batches FDWs yield (arrow.c) and the builder of the batches
 *		sgfdw.pg.arrow returns (arrow_out.c). Their layout is the ABI: never change it.
 */
#ifndef SGFDW_ARROW_ABI_H
#define SGFDW_ARROW_ABI_H

#include <stdint.h>

#define ARROW_FLAG_NULLABLE 2

struct ArrowSchema
{
	const char *format;
	const char *name;
	const char *metadata;
	int64_t		flags;
	int64_t		n_children;
	struct ArrowSchema **children;
	struct ArrowSchema *dictionary;
	void		(*release) (struct ArrowSchema *);
	void	   *private_data;
};

struct ArrowArray
{
	int64_t		length;
	int64_t		null_count;
	int64_t		offset;
	int64_t		n_buffers;
	int64_t		n_children;
	const void **buffers;
	struct ArrowArray **children;
	struct ArrowArray *dictionary;
	void		(*release) (struct ArrowArray *);
	void	   *private_data;
};

struct ArrowArrayStream
{
	int			(*get_schema) (struct ArrowArrayStream *, struct ArrowSchema *out);
	int			(*get_next) (struct ArrowArrayStream *, struct ArrowArray *out);
	const char *(*get_last_error) (struct ArrowArrayStream *);
	void		(*release) (struct ArrowArrayStream *);
	void	   *private_data;
};

#endif							/* SGFDW_ARROW_ABI_H */
