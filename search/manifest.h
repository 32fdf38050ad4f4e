/* manifest - the signed, BagIt-style manifest of an export, and checking one offline.
 * Owns: the layout of an export folder's tag files, the `<sha256>  <path>` line format (what
 * `sha256sum -c` reads), the Ed25519 signature over the tag manifest, and verifying a folder
 * with nothing but the folder (and, to pin it, the archive's public key). Not: writing the
 * evidence (export), the archive (no database, no keyring needed to verify).
 *
 *	DIR/bagit.txt                 BagIt declaration
 *	DIR/data/...                  the messages and load files
 *	DIR/manifest-sha256.txt       every file under data/: "<sha256>  data/<path>"
 *	DIR/export.json               query, actor, times, counts, audit position, public key,
 *	                              and the SHA-256 of manifest-sha256.txt
 *	DIR/tagmanifest-sha256.txt    bagit.txt, manifest-sha256.txt and export.json, same format
 *	DIR/export.sig                Ed25519 over tagmanifest-sha256.txt's bytes: 128 hex + LF
 * The signature covers the tag manifest, which covers the manifest and export.json, which
 * cover every file: one signature, checked from the outside in. */
#ifndef VL_MANIFEST_H
#define VL_MANIFEST_H

#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "vl_err.h"

#define MANIFEST_FILE "manifest-sha256.txt"
#define MANIFEST_TAG_FILE "tagmanifest-sha256.txt"
#define MANIFEST_INFO_FILE "export.json"
#define MANIFEST_SIG_FILE "export.sig"
#define MANIFEST_BAGIT_FILE "bagit.txt"
#define MANIFEST_BAGIT_TEXT "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
#define MANIFEST_PK_LEN 32
#define MANIFEST_SIG_LEN 64
#define MANIFEST_LINE_MAX 4096

/* manifest_line - append "<64 hex>  <path>\n". path is relative, without "..", newline or
 * backslash (callers make their own names; sha256sum would escape those). */
void manifest_line(struct buf *out, const uint8_t sha256[32], const char *path);

/* manifest_sign - the 64-byte signature of msg under the Ed25519 key of seed, and its public
 * key (pk may be NULL). */
void manifest_sign(const uint8_t seed[32], const void *msg, size_t n, uint8_t sig[64],
		   uint8_t pk[32]);

/* manifest_public_key - the Ed25519 public key of seed. */
void manifest_public_key(const uint8_t seed[32], uint8_t pk[32]);

/* manifest_file_sha256 - the SHA-256 of the file at path, read in bounded chunks. */
enum vl_err manifest_file_sha256(const char *path, uint8_t out[32], char *err) VL_MUST_CHECK;

struct manifest_check {
	uint64_t files;	 /* files under data/ checked */
	uint64_t bad;	 /* problems found (each reported) */
	uint8_t pk[32];	 /* the key the signature was checked with */
	int pinned;	 /* pk came from the caller, not from export.json */
};

/* manifest_verify_dir - check the export folder dir: the signature over the tag manifest
 * (with pin when not NULL, else with the key export.json names), every tag file's and every
 * data file's SHA-256, and that data/ holds no file the manifest does not list. Each problem
 * is one line on report. VL_OK when the folder could be checked at all (then out->bad says
 * whether it passed); VL_ERR_CORRUPT when a tag file is missing or malformed. */
enum vl_err manifest_verify_dir(const char *dir, const uint8_t *pin, FILE *report,
				struct manifest_check *out, char *err) VL_MUST_CHECK;

#endif
