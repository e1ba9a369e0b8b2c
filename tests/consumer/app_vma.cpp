// The application's VMA unit, for SceneryEditorX::MemoryAppVma (SEDX_CONSUMER_APP_VMA=unit): VMA's
// implementation, compiled here from the package's VMA header with the library's configuration. The
// program's vma* functions, the library's and main.cpp's, are this unit's.
#include <SceneryEditorX/vma/VmaImplementation.inl>
