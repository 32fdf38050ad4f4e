/* privdrop - run as the unprivileged run_user when started as root.
 * Owns: creating the system user, handing it the data folder, and the one-way switch to it
 * (groups, gid, uid, then proof that uid 0 cannot come back). Both calls do nothing (beyond
 * the umask) when the process is not root. Not: binding privileged ports (serve does that
 * between prepare and drop). */
#ifndef VL_PRIVDROP_H
#define VL_PRIVDROP_H

#include "config.h"
#include "vl_err.h"

/* privdrop_prepare - as root: make sure the system user cfg->run_user exists (useradd
 * --system), create cfg->data_dir (0750) when missing, and give the data folder and
 * everything below it to that user when its top is not already theirs. Not root: nothing.
 * VL_ERR_CONFIG for a bad or root run_user, VL_ERR_IO when useradd, mkdir or chown fails. */
enum vl_err privdrop_prepare(const struct vl_config *cfg, char *err) VL_MUST_CHECK;

/* privdrop_drop - set umask 027; then, as root, switch for good to cfg->run_user (supplementary
 * groups, gid, uid), point HOME/USER/LOGNAME at it, and check that setuid(0) now fails and
 * that the data folder is usable. Not root: only the umask. VL_ERR_CONFIG when the user is
 * missing or the data folder is unreachable for it, VL_ERR_INTERNAL when the switch fails. */
enum vl_err privdrop_drop(const struct vl_config *cfg, char *err) VL_MUST_CHECK;

#endif
