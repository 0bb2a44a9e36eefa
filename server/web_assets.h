/* The files of web/, built into kicd (cmake/embed_web.cmake). */
#ifndef WEB_ASSETS_H
#define WEB_ASSETS_H

#include <stddef.h>

typedef struct WebAsset {
    const char *name; /* the file's name in web/ */
    const unsigned char *data;
    size_t len;
} WebAsset;

extern const WebAsset web_assets[];
extern const size_t web_assets_count;

#endif
