// What the program's VMA unit calls back into the library (declared in cmake/VmaImplementation.inl):
// in both variants, so that VMA reports to the library's logger with the library's assertion setting,
// whether the unit is the library's own or the application's.
#include <SceneryEditorX/Core/Assert.h>
#include <SceneryEditorX/Core/Log.h>

namespace SceneryEditorX::detail
{
void VmaAssertFailed(const char* expression, const char* file, int line);
void VmaLeakLog(const char* line);

void VmaAssertFailed(const char* expression, const char* file, int line)
{
    ReportCheckFailure("VMA_ASSERT", expression, file, line, "internal error in the memory system",
                       SEDX_ENABLE_ASSERTS != 0);
}

void VmaLeakLog(const char* line)
{
    Log::Write(LogLevel::Error, "VMA", line);
}
} // namespace SceneryEditorX::detail
