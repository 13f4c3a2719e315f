/*
 * stat64, lstat64 and fstat64 became real glibc functions at 2.33; before, <sys/stat.h> turned
 * them into calls of __xstat64 & co. These hidden definitions do the same, so the addon needs
 * no GLIBC_2.33 symbol (research/build-probe.md §7). Linked into the addon through LDFLAGS.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#if defined(__x86_64__)
#define KIOSK_GLIBC_BASE "GLIBC_2.2.5"
#define KIOSK_STAT_VER 1 /* _STAT_VER_LINUX */
#elif defined(__aarch64__)
#define KIOSK_GLIBC_BASE "GLIBC_2.17"
#define KIOSK_STAT_VER 0 /* _STAT_VER */
#else
#error "glibc_compat.c: only x86-64 and aarch64 are supported"
#endif

extern int __xstat64(int ver, const char *path, struct stat64 *buf);
extern int __lxstat64(int ver, const char *path, struct stat64 *buf);
extern int __fxstat64(int ver, int fd, struct stat64 *buf);
__asm__(".symver __xstat64,__xstat64@" KIOSK_GLIBC_BASE);
__asm__(".symver __lxstat64,__lxstat64@" KIOSK_GLIBC_BASE);
__asm__(".symver __fxstat64,__fxstat64@" KIOSK_GLIBC_BASE);

__attribute__((visibility("hidden"))) int stat64(const char *path, struct stat64 *buf) {
  return __xstat64(KIOSK_STAT_VER, path, buf);
}

__attribute__((visibility("hidden"))) int lstat64(const char *path, struct stat64 *buf) {
  return __lxstat64(KIOSK_STAT_VER, path, buf);
}

__attribute__((visibility("hidden"))) int fstat64(int fd, struct stat64 *buf) {
  return __fxstat64(KIOSK_STAT_VER, fd, buf);
}
