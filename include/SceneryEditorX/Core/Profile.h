#pragma once
/// @file Profile.h
/// `SEDX_PROFILE_SCOPE(name)`: times the enclosing scope when SEDX_ENABLE_PROFILING is 1 and
/// reports it to the installed sink; compiles to nothing otherwise.

#include <chrono>
#include <cstdint>

namespace SceneryEditorX
{
/// Receives one finished scope. Install with `SetProfileSink` (nullptr to remove). The sink is
/// called on the thread that ran the scope.
using ProfileSink = void (*)(const char* name, uint64_t durationNs);
void SetProfileSink(ProfileSink sink);
ProfileSink GetProfileSink();

class ProfileScope
{
public:
    explicit ProfileScope(const char* name) : m_Name(name), m_Start(std::chrono::steady_clock::now()) {}
    ~ProfileScope()
    {
        if (ProfileSink sink = GetProfileSink())
            sink(m_Name, static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                   std::chrono::steady_clock::now() - m_Start)
                                                   .count()));
    }
    ProfileScope(const ProfileScope&) = delete;
    ProfileScope& operator=(const ProfileScope&) = delete;

private:
    const char* m_Name;
    std::chrono::steady_clock::time_point m_Start;
};
} // namespace SceneryEditorX

#define SEDX_PROFILE_CONCAT2_(a, b) a##b
#define SEDX_PROFILE_CONCAT_(a, b) SEDX_PROFILE_CONCAT2_(a, b)
#if defined(SEDX_ENABLE_PROFILING) && SEDX_ENABLE_PROFILING
#define SEDX_PROFILE_SCOPE(name)                                                                             \
    ::SceneryEditorX::ProfileScope SEDX_PROFILE_CONCAT_(sedxProfile_, __LINE__)(name)
#else
#define SEDX_PROFILE_SCOPE(name) ((void)0)
#endif
