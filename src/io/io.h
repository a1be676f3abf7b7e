/* io — buffered input over a file, stdin or memory, with transparent gzip /
 * zstd decompression.
 *
 * Prefix: io_.  An io_reader owns one growable "window" of decompressed
 * bytes.  Parsers look at the window (io_window), consume what they used
 * (io_consume) and ask for more (io_more) when a record is not complete yet;
 * io_more compacts the window and appends at least one block, never letting
 * the window grow past the cap given at open (so one record can never make
 * the process allocate without bound).  io_line is a fast line splitter on
 * top of that (memchr over large blocks, no per-line allocation).
 *
 * Compression is detected by magic bytes, not by name: gzip (1f 8b, multi-
 * member streams are concatenated as gunzip does) and zstd (28 b5 2f fd,
 * multi-frame).  Errors name the input: "in.ndjson.gz: gzip data corrupt at
 * byte 1234" (byte offset in the compressed input).
 *
 * Two passes: io_rewind starts over from the first byte.  For a regular
 * file it seeks back; for stdin or a pipe the reader, when opened with
 * IO_REWINDABLE, first spools the raw (still compressed) input to an unlinked
 * temporary file (in $TMPDIR, default /tmp), capped at IO_SPOOL_MAX bytes. */
#ifndef SLUICE_IO_H
#define SLUICE_IO_H

#include <stddef.h>
#include <stdint.h>

typedef struct io_reader io_reader;

typedef enum io_codec { IO_PLAIN = 0, IO_GZIP, IO_ZSTD } io_codec;

enum {
    IO_REWINDABLE = 1 /* io_open flag: io_rewind must work (spool pipes) */
};

#define IO_BLOCK ((size_t)1 << 20)              /* read / decompress unit   */
#define IO_WINDOW_DEFAULT ((size_t)64 << 20)    /* default window cap       */
#define IO_SPOOL_MAX ((int64_t)64 << 30)        /* stdin spool cap (64 GiB) */

/* Open `path` ("-" = stdin) for reading.  flags: IO_REWINDABLE.  max_window
 * caps the window (0 = IO_WINDOW_DEFAULT); it must exceed the largest record
 * a parser wants to see in one piece.  Returns NULL with a message naming the
 * file on failure (cannot open, spool failed). */
io_reader *io_open(const char *path, int flags, size_t max_window, char *err, size_t errlen);

/* A reader over memory buf[0..len) (not copied; must outlive the reader),
 * decompressing it if it starts with a gzip/zstd magic.  name is used in
 * messages.  Always rewindable.  Never fails (errors surface in io_more). */
io_reader *io_open_mem(const void *buf, size_t len, const char *name, size_t max_window);

/* Close and free.  Accepts NULL. */
void io_close(io_reader *r);

/* The name used in messages ("-" reads as "stdin"). */
const char *io_name(const io_reader *r);
/* Compression detected from the first bytes (valid after the first io_more;
 * IO_PLAIN until then). */
io_codec io_get_codec(const io_reader *r);
/* Bytes consumed from the underlying file/memory (compressed bytes). */
int64_t io_bytes_in(const io_reader *r);
/* Decompressed bytes delivered into the window so far. */
int64_t io_bytes_out(const io_reader *r);

/* The current window: decompressed bytes not consumed yet.  The pointer is
 * valid until the next io_more / io_rewind. */
void io_window(const io_reader *r, const uint8_t **p, size_t *n);
/* Drop the first n bytes of the window (n <= window length). */
void io_consume(io_reader *r, size_t n);
/* Append more decompressed data to the window (compacting first).  Returns
 * 1 if at least one byte was added, 0 at end of input, -1 with a message on
 * a read / decompression error or when the window is full (a record larger
 * than the cap). */
int io_more(io_reader *r, char *err, size_t errlen);

/* Start over from the first byte.  Returns 0, or -1 with a message (input
 * not rewindable). */
int io_rewind(io_reader *r, char *err, size_t errlen);

/* Result of io_line. */
enum { IO_LINE_EOF = 0, IO_LINE_OK = 1, IO_LINE_TOO_LONG = 2, IO_LINE_ERR = -1 };

/* Next line: *line and *len exclude the '\n' and a '\r' before it; the bytes stay
 * valid until the next call on this reader.  *lineno is the 1-based number of
 * the line.  Returns IO_LINE_OK, IO_LINE_EOF, IO_LINE_TOO_LONG (the line is
 * longer than max_line: it has been skipped, *lineno says which one) or
 * IO_LINE_ERR with a message. */
int io_line(io_reader *r, size_t max_line, const uint8_t **line, size_t *len, int64_t *lineno,
            char *err, size_t errlen);

/* Decompression and sniffing helpers. */
/* Codec from magic bytes in p[0..n) (IO_PLAIN if none). */
io_codec io_sniff_codec(const uint8_t *p, size_t n);
/* Length of a path's name without a trailing ".gz" / ".zst" / ".zstd". */
size_t io_strip_codec_ext(const char *path);

#endif
