#include "ExampleSupport.h"

namespace SceneryEditorX::Examples
{

bool ReportCheckFailed(std::string_view expression, std::source_location where)
{
    SEDX_CORE_ERROR_TAG("Examples", "check failed: {} ({}:{}, in {})", expression, where.file_name(),
                        where.line(), where.function_name());
    return false;
}

uint64_t LiveAllocationsOfTag(std::string_view tag)
{
    for (const TagStats& stats : MemoryAllocator::GetAllTagStats())
        if (stats.tag == tag)
            return stats.allocationCount;
    return 0;
}

} // namespace SceneryEditorX::Examples
