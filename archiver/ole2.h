/* ole2 - telling an OLE2 compound file ([MS-CFB]) from its first bytes, one that holds a
 * password-protected Office Open XML package ([MS-OFFCRYPTO] 2.3.4.4: the streams
 * EncryptionInfo and EncryptedPackage), and a password-protected PowerPoint 97-2003 file (by
 * its directory). Shared by office_text (a .docx that is really such a wrapper) and
 * legacy_text (.doc/.xls/.ppt are compound files). Not: reading the streams. */
#ifndef VL_OLE2_H
#define VL_OLE2_H

#include <stddef.h>
#include <stdint.h>

#define OLE2_DIR_SECTORS_MAX 1024 /* directory sectors followed: 4096 entries in 512-byte
				   * sectors; a PowerPoint file has a few dozen */
#define OLE2_TREE_DEPTH_MAX 64	  /* depth of a storage's red-black tree walked: twice the
				   * log2 of the most entries a directory may have, and more */

/* ole2_is - whether the len bytes at p start with the compound file signature
 * D0 CF 11 E0 A1 B1 1A E1. */
int ole2_is(const uint8_t *p, size_t len);

/* ole2_encrypted_package - whether the compound file at p names both streams EncryptionInfo
 * and EncryptedPackage (UTF-16LE names in its directory). XXX: the names are searched for, not
 * the directory walked (its tests build files of the names alone): a legacy file whose text
 * holds both names in UTF-16 would be called encrypted. */
int ole2_encrypted_package(const uint8_t *p, size_t len);

/* ole2_ppt_encrypted - whether the compound file (len bytes at p) is a password-protected
 * PowerPoint 97-2003 file: its root storage holds the streams "PowerPoint Document" and
 * "EncryptedSummary" ([MS-PPT] 2.3.7: an encrypted file's document properties are in the
 * Encrypted Summary Info stream, [MS-OFFCRYPTO] 2.3.5.4, unless the writer left them clear).
 * Found by walking the directory ([MS-CFB] 2.2 header, 2.3 and 2.5 FAT and DIFAT, 2.6 the
 * root's red-black tree of entries), so a name in a stream's bytes or in a storage below the
 * root does not count. 0 for any other file, and for one whose header, FAT or directory is
 * damaged or past OLE2_DIR_SECTORS_MAX or OLE2_TREE_DEPTH_MAX. XXX: a file encrypted with
 * fDocProps set (its properties left clear) has no such stream and is not told: that needs
 * the Current User stream's headerToken (0xF3D1C4DF), which is a stream read. */
int ole2_ppt_encrypted(const uint8_t *p, size_t len);

#endif
