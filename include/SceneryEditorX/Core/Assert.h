#pragma once
/// @file Assert.h
/// `SEDX_CORE_ASSERT(cond, fmt, ...)`: checked in builds with assertions enabled (debug builds, or
/// SEDX_ENABLE_ASSERTS=1), where a failure logs and aborts; in release builds the condition is not
/// evaluated at all.
/// `SEDX_CORE_VERIFY(cond, fmt, ...)`: the condition is always evaluated. On failure it logs; it
/// aborts only in builds with assertions enabled. Neither ever aborts in a release build.
/// The message arguments are optional.

#include <SceneryEditorX/Core/Log.h>

#include <string>

#ifndef SEDX_ENABLE_ASSERTS
#ifdef NDEBUG
#define SEDX_ENABLE_ASSERTS 0
#else
#define SEDX_ENABLE_ASSERTS 1
#endif
#endif

namespace SceneryEditorX::detail
{
/// Logs a failed check (tag "Assert") and aborts when `fatal` is true.
void ReportCheckFailure(const char* kind, const char* expression, const char* file, int line,
                        const std::string& message, bool fatal);

inline std::string CheckMessage()
{
    return {};
}
template <class... Args>
std::string CheckMessage(fmt::format_string<Args...> format, Args&&... args)
{
    return fmt::format(format, std::forward<Args>(args)...);
}
} // namespace SceneryEditorX::detail

#if SEDX_ENABLE_ASSERTS
#define SEDX_CORE_ASSERT(cond, ...)                                                                          \
    do                                                                                                       \
    {                                                                                                        \
        if (!(cond))                                                                                         \
            ::SceneryEditorX::detail::ReportCheckFailure(                                                    \
                "ASSERT", #cond, __FILE__, __LINE__, ::SceneryEditorX::detail::CheckMessage(__VA_ARGS__),    \
                true);                                                                                       \
    } while (false)
#else
#define SEDX_CORE_ASSERT(cond, ...)                                                                          \
    do                                                                                                       \
    {                                                                                                        \
        (void)sizeof(!(cond));                                                                               \
    } while (false)
#endif

#define SEDX_CORE_VERIFY(cond, ...)                                                                          \
    do                                                                                                       \
    {                                                                                                        \
        if (!(cond))                                                                                         \
            ::SceneryEditorX::detail::ReportCheckFailure(                                                    \
                "VERIFY", #cond, __FILE__, __LINE__, ::SceneryEditorX::detail::CheckMessage(__VA_ARGS__),    \
                SEDX_ENABLE_ASSERTS != 0);                                                                   \
    } while (false)
