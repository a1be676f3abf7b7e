/* Column type names and value kinds. */
#include "parquet/parquet.h"

pq_kind pq_type_kind(pq_type t)
{
    switch (t) {
    case PQ_BOOL: return PQ_K_BOOL;
    case PQ_INT32: case PQ_DATE: return PQ_K_I32;
    case PQ_INT64: case PQ_TIMESTAMP: case PQ_UINT64: case PQ_TIME: case PQ_TIMESTAMP_NTZ:
        return PQ_K_I64;
    case PQ_FLOAT: return PQ_K_F32;
    case PQ_DOUBLE: case PQ_DECIMAL: return PQ_K_F64;
    case PQ_STRING: case PQ_BYTES: case PQ_UNSUPPORTED: return PQ_K_BYTES;
    }
    return PQ_K_BYTES;
}

const char *pq_type_name(pq_type t)
{
    switch (t) {
    case PQ_BOOL: return "BOOLEAN";
    case PQ_INT32: return "INT32";
    case PQ_INT64: return "INT64";
    case PQ_FLOAT: return "FLOAT";
    case PQ_DOUBLE: return "DOUBLE";
    case PQ_STRING: return "STRING";
    case PQ_BYTES: return "BINARY";
    case PQ_TIMESTAMP: return "TIMESTAMP";
    case PQ_DATE: return "DATE";
    case PQ_DECIMAL: return "DECIMAL";
    case PQ_TIME: return "TIME";
    case PQ_TIMESTAMP_NTZ: return "TIMESTAMP_NTZ";
    case PQ_UINT64: return "UINT64";
    case PQ_UNSUPPORTED: return "UNSUPPORTED";
    }
    return "?";
}
