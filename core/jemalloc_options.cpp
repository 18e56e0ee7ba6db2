// jemalloc's options for the executables that link it (VUMI_ALLOCATOR in CMakeLists.txt); the
// MALLOC_CONF environment variable is read after them and overrides them.
//
// background_thread: a thread of jemalloc's own gives freed pages back to the system. Without it
// pages are returned only during later allocations, so a daemon that has gone quiet after a
// SIGHUP reload kept the old runtime's 120 MB resident (bench/README.md, "The allocator").

extern "C" {
// jemalloc reads this global by name at its first allocation.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
const char* malloc_conf = "background_thread:true";
}
