// The shared vocabulary of the memory system (MemoryCommon.h).
#include "MemoryCommon.h"

namespace SceneryEditorX::detail
{

const char* KindName(ResourceKind kind)
{
    return kind == ResourceKind::Buffer ? "buffer" : "image";
}

std::string AllocationName(const std::string& tag, const std::string& name)
{
    std::string full = name.empty() ? tag : tag + ":" + name;
    // VMA's JSON writer (statistics dumps) asserts on control characters, and they would garble log
    // lines and debug-utils names too; each one becomes '?'. Bytes of 0x80 and above (UTF-8) pass.
    for (char& c : full)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
            c = '?';
    return full;
}

} // namespace SceneryEditorX::detail
