// GCC 12's <new> calls std::__throw_bad_array_new_length(), which libstdc++ exports only
// from GLIBCXX_3.4.29 (GCC 11). A hidden local definition keeps the addon at GLIBCXX_3.4.28 and
// below, so Debian 11's libstdc++ (GCC 10) loads it (research/build-probe.md §7).
#include <new>

namespace std {
__attribute__((visibility("hidden"), noreturn)) void __throw_bad_array_new_length() {
  throw bad_array_new_length();
}
}  // namespace std
