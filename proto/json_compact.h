/* A faster json_dumps(v, JSON_COMPACT): the same bytes, without jansson's
 * per-fragment callback, per-character UTF-8 walk and snprintf for every
 * integer. Every stored event's params go through it once, so it is on
 * the ingest path's hot loop. */
#ifndef JSON_COMPACT_H
#define JSON_COMPACT_H

#include <jansson.h>

/* Exactly what json_dumps(v, JSON_COMPACT) returns, as a malloc'd
 * NUL-terminated string (free with free()). NULL where json_dumps gives
 * NULL: v NULL or not an object or array, a string value that is not
 * valid UTF-8 (json_string_nocheck), a container that holds itself; and
 * NULL when memory runs out. Like json_dumps, an object key that is not
 * valid UTF-8 (json_object_set_nocheck) yields text that is not JSON: the
 * key is cut short and left unquoted. */
char *json_compact(const json_t *v);

#endif
