/*
 * cmd_util.c — checks shared by the subcommands that take a CONFIG argument:
 * a directory or a checkpoint given where the YAML config belongs gets a
 * message that names the mistake and the command that was probably meant.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "metagrid/cmd.h"

/* The directory part of path ("." when none) into out. */
static void cmd_dir_of(char *out, size_t n, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(out, n, ".");
    else if (slash == path) snprintf(out, n, "/");
    else snprintf(out, n, "%.*s", (int)(slash - path), path);
}

int cmd_check_config_path(const char *sub, const char *path, const char *ckpt, MgErr *e)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return MG_OK; /* the loader names a missing file */
    if (S_ISDIR(sb.st_mode)) {
        char list[512] = "";
        size_t len = 0;
        int n = 0;
        DIR *d = opendir(path);
        for (struct dirent *de; d && (de = readdir(d)) != NULL;) {
            size_t l = strlen(de->d_name);
            if (l < 6 || strcmp(de->d_name + l - 5, ".yaml") != 0) continue;
            if (n++ < 6 && len + l + 3 < sizeof list)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "",
                                        de->d_name);
        }
        if (d) closedir(d);
        return mg_fail(e, MG_EUSAGE, "%s: %s is a directory; CONFIG is a YAML file%s%s%s "
                       "(see metagrid help %s)", sub, path, n ? " (there: " : "", list,
                       n > 6 ? ", ...)" : n ? ")" : "", sub);
    }
    char magic[8] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(magic, 1, sizeof magic, f) : 0;
    if (f) fclose(f);
    if (got != sizeof magic || memcmp(magic, "MGCKPT\r\n", sizeof magic) != 0) return MG_OK;
    char dir[1024], cfg[1100];
    cmd_dir_of(dir, sizeof dir, path);
    snprintf(cfg, sizeof cfg, "%s/config.yaml", dir);
    const char *run_cfg = stat(cfg, &sb) == 0 ? cfg : "CONFIG";
    if (!strcmp(sub, "eval"))
        return mg_fail(e, MG_EUSAGE, "eval: %s is a checkpoint, but the first argument is "
                       "CONFIG (a YAML file): metagrid eval %s --checkpoint %s", path, run_cfg,
                       ckpt ? ckpt : path);
    if (!strcmp(sub, "train"))
        return mg_fail(e, MG_EUSAGE, "train: %s is a checkpoint, but CONFIG is a YAML file; to "
                       "continue its run: metagrid train %s --out %s --resume", path, run_cfg, dir);
    return mg_fail(e, MG_EUSAGE, "%s: %s is a checkpoint, but CONFIG is a YAML file (e.g. %s)",
                   sub, path, run_cfg);
}
