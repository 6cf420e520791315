/* ffi/xdp/bpf_obj.c: see bpf_obj.h. */
#define _GNU_SOURCE
#include "bpf_obj.h"

#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static __thread char last_error[512];
/* libbpf's messages of the load in progress on this thread (its print callback is global,
   so it writes to the thread-local buffer of whichever thread is loading). */
static __thread char libbpf_log[1024];
static __thread size_t libbpf_log_len;

const char *cc_xdp_last_error(void) { return last_error; }

int cc_xdp_fail(int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return rc;
}

static int collect_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap) {
  if (level == LIBBPF_DEBUG) return 0;
  if (libbpf_log_len + 1 >= sizeof libbpf_log) return 0;
  int n = vsnprintf(libbpf_log + libbpf_log_len, sizeof libbpf_log - libbpf_log_len, fmt, ap);
  if (n > 0) {
    libbpf_log_len += (size_t)n;
    if (libbpf_log_len >= sizeof libbpf_log) libbpf_log_len = sizeof libbpf_log - 1;
  }
  return 0;
}

static int try_dir(const char *dir, const char *name, char *out, size_t cap) {
  int n = snprintf(out, cap, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= cap) return 0;
  return access(out, R_OK) == 0;
}

int cc_bpf_obj_path(const char *name, char *out, size_t cap) {
  const char *env = getenv("CLUTCH_BPF_DIR");
  if (env && *env) {
    if (try_dir(env, name, out, cap)) return 0;
    return cc_xdp_fail(-ENOENT, "Cannot find BPF object %s: not in CLUTCH_BPF_DIR=%s", name, env);
  }
  char dir[PATH_MAX];
  Dl_info info;
  char tried[2][PATH_MAX + 8] = {"", ""};
  if (dladdr((void *)cc_bpf_obj_path, &info) && info.dli_fname && strstr(info.dli_fname, ".so")) {
    snprintf(dir, sizeof dir, "%s", info.dli_fname);
    char *slash = strrchr(dir, '/');
    if (slash) {
      snprintf(slash, sizeof dir - (size_t)(slash - dir), "/bpf");
      if (try_dir(dir, name, out, cap)) return 0;
      snprintf(tried[0], sizeof tried[0], "%s", dir);
    }
  }
  ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 8);
  if (n > 0) {
    dir[n] = 0;
    char *slash = strrchr(dir, '/');
    if (slash) {
      snprintf(slash, sizeof dir - (size_t)(slash - dir), "/../bpf");
      if (try_dir(dir, name, out, cap)) return 0;
      snprintf(tried[1], sizeof tried[1], "%s", dir);
    }
  }
  return cc_xdp_fail(-ENOENT,
                     "Cannot find BPF object %s (deno task build:native builds it): tried %s %s",
                     name, tried[0], tried[1]);
}

int cc_bpf_obj_load(const char *name, struct bpf_object **out) {
  char path[PATH_MAX];
  int rc = cc_bpf_obj_path(name, path, sizeof path);
  if (rc) return rc;
  libbpf_log_len = 0;
  libbpf_log[0] = 0;
  libbpf_print_fn_t previous = libbpf_set_print(collect_libbpf);
  struct bpf_object *obj = bpf_object__open_file(path, NULL);
  long err = libbpf_get_error(obj);
  if (err) {
    libbpf_set_print(previous);
    return cc_xdp_fail((int)err, "Cannot open BPF object %s: %s", path, strerror((int)-err));
  }
  err = bpf_object__load(obj);
  libbpf_set_print(previous);
  if (err) {
    bpf_object__close(obj);
    for (char *p = libbpf_log; *p; p++) if (*p == '\n') *p = ' ';
    return cc_xdp_fail((int)err, "Cannot load BPF object %s: %s: %.300s", path,
                       strerror((int)-err), libbpf_log);
  }
  *out = obj;
  return 0;
}
