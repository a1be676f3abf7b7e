/* io internals shared by io.c and io_line.c (not a public header). */
#ifndef SLUICE_IO_INT_H
#define SLUICE_IO_INT_H

#include "io/io.h"
#include "util/util.h"

#include <zlib.h>
#include <zstd.h>

struct io_reader {
    char *name;
    int fd, own_fd, rewindable;
    const uint8_t *mem; /* memory source, or NULL */
    size_t mem_len;
    /* raw (compressed) bytes: raw_buf for fds, the memory itself for mem */
    const uint8_t *raw;
    uint8_t *raw_buf;
    size_t raw_len, raw_pos;
    size_t block; /* read / decompress unit */
    int src_eof;
    int64_t src_total; /* raw bytes read from the source */
    /* codec */
    int started;
    io_codec codec;
    z_stream z;
    int z_init, z_in_stream;
    int64_t z_members;
    ZSTD_DStream *zs;
    size_t zs_ret; /* last ZSTD_decompressStream result: 0 = frame done */
    /* window of decompressed bytes: win[win_start .. win_end) */
    uint8_t *win;
    size_t win_cap, win_start, win_end, max_window;
    int64_t bytes_out;
    /* io_line state */
    size_t scan;    /* bytes after win_start known to hold no '\n' */
    size_t pending; /* bytes of the last returned line to consume */
    int64_t lineno;
};

#endif
