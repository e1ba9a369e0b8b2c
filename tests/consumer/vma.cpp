// An application unit that compiles VMA's implementation itself, as Scenery Editor X has one. Built
// only with SEDX_CONSUMER_OWN_VMA (RunConsumer.cmake), which expects the build to fail: through the
// package's vk_mem_alloc.h at compile time, through the application's own copy at link time. It
// must never link and run on two VMA builds.
#define VMA_IMPLEMENTATION
#include <vk_mem_alloc.h>
