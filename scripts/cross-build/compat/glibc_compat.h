/*
 * Force-included (-include) into every C and C++ file of the better-sqlite3 addon build, so the
 * addon asks only for glibc symbol versions that Debian 11 (glibc 2.31) and older have
 * (research/build-probe.md §7). Built on Debian 12 the addon would otherwise need glibc 2.34:
 * pthread and dl functions moved into libc at 2.34 and got new default versions there, and the
 * libm functions below got faster variants at 2.29. Each `.symver` binds the reference to the
 * oldest version of the symbol, which every glibc since the architecture's first still exports.
 * The stat64 family (2.33) is handled by glibc_compat.c, std::__throw_bad_array_new_length
 * (GLIBCXX_3.4.29) by cxx_compat.cc.
 */
#ifndef KIOSK_GLIBC_COMPAT_H
#define KIOSK_GLIBC_COMPAT_H

#if defined(__x86_64__)
#define KIOSK_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define KIOSK_GLIBC_BASE "GLIBC_2.17"
#else
#error "glibc_compat.h: only x86-64 and aarch64 are supported"
#endif

#define KIOSK_SYMVER(sym) __asm__(".symver " #sym "," #sym "@" KIOSK_GLIBC_BASE)

/* libpthread symbols that became GLIBC_2.34 in libc */
KIOSK_SYMVER(pthread_create);
KIOSK_SYMVER(pthread_join);
KIOSK_SYMVER(pthread_once);
KIOSK_SYMVER(pthread_detach);
KIOSK_SYMVER(pthread_key_create);
KIOSK_SYMVER(pthread_key_delete);
KIOSK_SYMVER(pthread_getspecific);
KIOSK_SYMVER(pthread_setspecific);
KIOSK_SYMVER(pthread_mutex_trylock);
KIOSK_SYMVER(pthread_mutexattr_init);
KIOSK_SYMVER(pthread_mutexattr_settype);
KIOSK_SYMVER(pthread_mutexattr_destroy);
/* libdl symbols that became GLIBC_2.34 in libc */
KIOSK_SYMVER(dlopen);
KIOSK_SYMVER(dlsym);
KIOSK_SYMVER(dlclose);
KIOSK_SYMVER(dlerror);
/* libm symbols with new default versions at 2.29 */
KIOSK_SYMVER(exp);
KIOSK_SYMVER(log);
KIOSK_SYMVER(log2);
KIOSK_SYMVER(pow);

#endif
