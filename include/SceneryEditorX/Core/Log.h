#pragma once
/// @file Log.h
/// Tagged logging on spdlog: `SEDX_CORE_{TRACE,INFO,WARN,ERROR}(fmt, ...)` and the `_TAG(tag, fmt, ...)`
/// variants, with `{}` formatting (fmt). A global level, a per-tag filter and a capture sink that
/// tests can read. Trace and Info lines go to stdout, Warn and Error lines to stderr; every line is
/// flushed as it is written. All functions here may be called from any thread, and at process exit
/// from static destructors too (the logger is never destroyed).

#include <fmt/format.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace SceneryEditorX
{

enum class LogLevel : uint8_t
{
    Trace = 0,
    Info = 2,
    Warn = 3,
    Error = 4,
    Off = 6
};

/// One captured log record.
struct LogRecord
{
    LogLevel level;
    std::string tag; ///< empty for untagged lines
    std::string message;
};

class LogCapture;

class Log
{
public:
    /// Sets the lowest level that is written. Lines below it cost one atomic load.
    static void SetLevel(LogLevel level);
    static LogLevel GetLevel();
    /// Enables or disables one tag. Disabled tags are dropped (errors included).
    static void SetTagEnabled(std::string_view tag, bool enabled);
    static bool IsTagEnabled(std::string_view tag);
    static bool ShouldLog(LogLevel level);

    /// Writes one line; the macros below are the usual way in.
    static void Write(LogLevel level, std::string_view tag, std::string_view message);

    template <class... Args>
    static void Print(LogLevel level, std::string_view tag, fmt::format_string<Args...> format,
                      Args&&... args)
    {
        if (!ShouldLog(level))
            return;
        Write(level, tag, fmt::format(format, std::forward<Args>(args)...));
    }

private:
    friend class LogCapture;
    static void AddCapture(LogCapture* capture);
    static void RemoveCapture(LogCapture* capture);
};

/// While alive, records every line that passes the level and tag filter (thread safe).
class LogCapture
{
public:
    LogCapture();
    ~LogCapture();
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

    std::vector<LogRecord> Records() const;
    /// Number of records at `level` whose message contains `needle` (and whose tag equals `tag`
    /// when `tag` is not empty).
    size_t Count(LogLevel level, std::string_view needle = {}, std::string_view tag = {}) const;
    void Clear();

private:
    friend class Log;
    void Append(LogRecord record);
    mutable std::mutex m_Mutex;
    std::vector<LogRecord> m_Records;
};

} // namespace SceneryEditorX

#define SEDX_LOG_(level, tag, ...) ::SceneryEditorX::Log::Print(level, tag, __VA_ARGS__)

#define SEDX_CORE_TRACE(...) SEDX_LOG_(::SceneryEditorX::LogLevel::Trace, "", __VA_ARGS__)
#define SEDX_CORE_INFO(...) SEDX_LOG_(::SceneryEditorX::LogLevel::Info, "", __VA_ARGS__)
#define SEDX_CORE_WARN(...) SEDX_LOG_(::SceneryEditorX::LogLevel::Warn, "", __VA_ARGS__)
#define SEDX_CORE_ERROR(...) SEDX_LOG_(::SceneryEditorX::LogLevel::Error, "", __VA_ARGS__)

#define SEDX_CORE_TRACE_TAG(tag, ...) SEDX_LOG_(::SceneryEditorX::LogLevel::Trace, tag, __VA_ARGS__)
#define SEDX_CORE_INFO_TAG(tag, ...) SEDX_LOG_(::SceneryEditorX::LogLevel::Info, tag, __VA_ARGS__)
#define SEDX_CORE_WARN_TAG(tag, ...) SEDX_LOG_(::SceneryEditorX::LogLevel::Warn, tag, __VA_ARGS__)
#define SEDX_CORE_ERROR_TAG(tag, ...) SEDX_LOG_(::SceneryEditorX::LogLevel::Error, tag, __VA_ARGS__)
