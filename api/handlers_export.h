/* handlers_export - the export routes: POST /v1/exports, GET /v1/exports/{id} and
 * GET /v1/exports/{id}/download. Owns: the exports table's rows and the HTTP shape of an
 * export job. Not: the export itself (search/export), routing or authentication (api). */
#ifndef VL_HANDLERS_EXPORT_H
#define VL_HANDLERS_EXPORT_H

#include "handlers.h"

/* An API export runs within its request, so it is bounded: queries matching more messages
 * than this are refused (413) and belong to `vellum export`. */
#define EXPORT_API_MAX 10000

void handle_export_create(struct handler_ctx *ctx);
void handle_export_get(struct handler_ctx *ctx);
void handle_export_download(struct handler_ctx *ctx);

#endif
