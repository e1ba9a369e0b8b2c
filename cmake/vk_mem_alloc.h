// vk_mem_alloc.h as SceneryEditorX::Memory uses and installs it: this guard in front of VMA's own
// header, which is upstream/vk_mem_alloc.h, copied unchanged from the VMA the library was built with.
//
// The library compiles VMA's implementation itself, in its one VMA_IMPLEMENTATION unit, with its own
// configuration, and a program holds exactly one VMA: the library's. Code of the application calls
// the vma* functions of that one (they are in the library). An application unit that defines
// VMA_IMPLEMENTATION would build a second VMA, and the linker would keep one of the two silently, so
// the library could run on a VMA it was not built for. Through this header that is a compile error;
// through another copy of vk_mem_alloc.h it is a link error ("multiple definition of vma...",
// because the library's VMA unit is always linked).
#if defined(VMA_IMPLEMENTATION) && !defined(SEDX_VMA_LIBRARY_UNIT)
// clang-format off
#error "SceneryEditorX::Memory already contains VMA's implementation: remove VMA_IMPLEMENTATION from this unit (the application's vma* calls use the library's VMA; README, 'VMA in the application')"
// clang-format on
#endif
#include "upstream/vk_mem_alloc.h"
