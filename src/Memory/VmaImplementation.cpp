// SceneryEditorX::Memory's own VMA unit: VMA's implementation with the library's configuration, from
// the same file with which an application compiles it for SceneryEditorX::MemoryAppVma
// (cmake/VmaImplementation.inl, installed as <SceneryEditorX/vma/VmaImplementation.inl>). Only the
// default variant contains this unit; Init reaches it through SEDX_VMA_UNIT_ENTRY, so it is always
// linked.
#define SEDX_VMA_LIBRARY_UNIT
#include <SceneryEditorX/vma/VmaImplementation.inl>
