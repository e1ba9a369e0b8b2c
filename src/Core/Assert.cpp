#include <SceneryEditorX/Core/Assert.h>
#include <SceneryEditorX/Core/Profile.h>

#include <atomic>
#include <cstdlib>

namespace SceneryEditorX
{
namespace detail
{
void ReportCheckFailure(const char* kind, const char* expression, const char* file, int line,
                        const std::string& message, bool fatal)
{
    if (message.empty())
        Log::Print(LogLevel::Error, "Assert", "{} failed: {} ({}:{})", kind, expression, file, line);
    else
        Log::Print(LogLevel::Error, "Assert", "{} failed: {} ({}:{}): {}", kind, expression, file, line,
                   message);
    if (fatal)
        std::abort();
}
} // namespace detail

namespace
{
std::atomic<ProfileSink> g_ProfileSink{nullptr};
}

void SetProfileSink(ProfileSink sink)
{
    g_ProfileSink.store(sink, std::memory_order_release);
}

ProfileSink GetProfileSink()
{
    return g_ProfileSink.load(std::memory_order_acquire);
}
} // namespace SceneryEditorX
