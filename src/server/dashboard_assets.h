/* dashboard_assets.h: the dashboard's files, embedded in kvnode at build time by
   src/server/dashboard/embed.c from src/server/dashboard/ (no runtime file access). */
#ifndef DASHBOARD_ASSETS_H
#define DASHBOARD_ASSETS_H

#include <stddef.h>

struct dashboard_asset {
    const char *name;   /* the file's name: served at /name */
    const char *type;   /* Content-Type */
    const unsigned char *data;
    size_t len;
};

extern const struct dashboard_asset dashboard_assets[];
extern const size_t dashboard_asset_count;

#endif
