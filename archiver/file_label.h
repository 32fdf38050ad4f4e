/* file_label - matching what a file is labelled: its content type against a list of types
 * (ASCII case ignored, and any parameters after ';' or white space), its name against file
 * name extensions (case ignored). Shared by the readers' *_is and *_kind_of functions and by
 * file_text, which each matched labels their own way. Not: what the labels mean. */
#ifndef VL_FILE_LABEL_H
#define VL_FILE_LABEL_H

#include <stddef.h>

/* file_label_type_in - whether content_type (may be NULL) is one of the n types, alone or
 * followed by parameters ("application/pdf; name=x"). */
int file_label_type_in(const char *content_type, const char *const *types, size_t n);

/* file_label_ext_in - whether filename (may be NULL) ends in one of the n extensions (".pdf"),
 * (a name that is only the extension, ".pdf", too). */
int file_label_ext_in(const char *filename, const char *const *exts, size_t n);

#endif
