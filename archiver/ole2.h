/* ole2 - telling an OLE2 compound file ([MS-CFB]) from its first bytes, and one that holds a
 * password-protected Office Open XML package ([MS-OFFCRYPTO] 2.3.4.4: the streams
 * EncryptionInfo and EncryptedPackage). Shared by office_text (a .docx that is really such a
 * wrapper) and legacy_text (.doc/.xls/.ppt are compound files). Not: reading the streams. */
#ifndef VL_OLE2_H
#define VL_OLE2_H

#include <stddef.h>
#include <stdint.h>

/* ole2_is - whether the len bytes at p start with the compound file signature
 * D0 CF 11 E0 A1 B1 1A E1. */
int ole2_is(const uint8_t *p, size_t len);

/* ole2_encrypted_package - whether the compound file at p names both streams EncryptionInfo
 * and EncryptedPackage (UTF-16LE names in its directory). XXX: the names are searched for, not
 * the directory walked: a legacy file whose text holds both names in UTF-16 would be called
 * encrypted. */
int ole2_encrypted_package(const uint8_t *p, size_t len);

#endif
