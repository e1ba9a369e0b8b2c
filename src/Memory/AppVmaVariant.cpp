// Only in SceneryEditorX::MemoryAppVma, the variant without a VMA unit of its own: the application's
// VMA unit (<SceneryEditorX/vma/VmaImplementation.inl>) references this, so that it links with this
// variant and not with SceneryEditorX::Memory, whose own VMA unit it would silently replace.
#include <vk_mem_alloc.h>

extern "C" const int SEDX_VMA_APP_VARIANT_MARKER = 1;
