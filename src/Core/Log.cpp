#include <SceneryEditorX/Core/Log.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <shared_mutex>

namespace SceneryEditorX
{
namespace
{
struct LogState
{
    std::atomic<LogLevel> level{LogLevel::Info};
    std::atomic<bool> anyTagDisabled{false};
    std::shared_mutex tagMutex;
    std::set<std::string, std::less<>> disabledTags;
    std::mutex captureMutex;
    std::atomic<size_t> captureCount{0};
    std::vector<LogCapture*> captures;
    std::shared_ptr<spdlog::logger> logger;      // Trace and Info: stdout
    std::shared_ptr<spdlog::logger> errorLogger; // Warn and Error: stderr

    LogState()
    {
        logger = MakeLogger(std::make_shared<spdlog::sinks::stdout_color_sink_mt>());
        errorLogger = MakeLogger(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    }
    static std::shared_ptr<spdlog::logger> MakeLogger(spdlog::sink_ptr sink)
    {
        auto made = std::make_shared<spdlog::logger>("SEDX", std::move(sink));
        made->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
        made->set_level(spdlog::level::trace); // filtering happens in Log::ShouldLog
        return made;
    }
};

// Never destroyed: static destructors (an application's, the library's) may log until the process
// ends, and a logger destroyed before them would crash there. The sink flushes every line, so
// nothing is left to flush at exit.
LogState& State()
{
    static LogState* const state = new LogState;
    return *state;
}

spdlog::level::level_enum ToSpdlog(LogLevel level)
{
    switch (level)
    {
    case LogLevel::Trace:
        return spdlog::level::trace;
    case LogLevel::Info:
        return spdlog::level::info;
    case LogLevel::Warn:
        return spdlog::level::warn;
    case LogLevel::Error:
        return spdlog::level::err;
    case LogLevel::Off:
        break;
    }
    return spdlog::level::off;
}
} // namespace

void Log::SetLevel(LogLevel level)
{
    State().level.store(level, std::memory_order_relaxed);
}

LogLevel Log::GetLevel()
{
    return State().level.load(std::memory_order_relaxed);
}

bool Log::ShouldLog(LogLevel level)
{
    return level != LogLevel::Off && level >= State().level.load(std::memory_order_relaxed);
}

void Log::SetTagEnabled(std::string_view tag, bool enabled)
{
    LogState& s = State();
    std::unique_lock lock(s.tagMutex);
    if (enabled)
    {
        if (auto it = s.disabledTags.find(tag); it != s.disabledTags.end())
            s.disabledTags.erase(it);
    }
    else
    {
        s.disabledTags.emplace(tag);
    }
    s.anyTagDisabled.store(!s.disabledTags.empty(), std::memory_order_release);
}

bool Log::IsTagEnabled(std::string_view tag)
{
    LogState& s = State();
    if (!s.anyTagDisabled.load(std::memory_order_acquire))
        return true;
    std::shared_lock lock(s.tagMutex);
    return s.disabledTags.find(tag) == s.disabledTags.end();
}

void Log::Write(LogLevel level, std::string_view tag, std::string_view message)
{
    if (!ShouldLog(level) || !IsTagEnabled(tag))
        return;
    LogState& s = State();
    spdlog::logger& logger = level >= LogLevel::Warn ? *s.errorLogger : *s.logger;
    if (tag.empty())
        logger.log(ToSpdlog(level), "{}", message);
    else
        logger.log(ToSpdlog(level), "[{}] {}", tag, message);

    if (s.captureCount.load(std::memory_order_acquire) != 0)
    {
        std::lock_guard lock(s.captureMutex);
        for (LogCapture* capture : s.captures)
            capture->Append(LogRecord{level, std::string(tag), std::string(message)});
    }
}

void Log::AddCapture(LogCapture* capture)
{
    LogState& s = State();
    std::lock_guard lock(s.captureMutex);
    s.captures.push_back(capture);
    s.captureCount.store(s.captures.size(), std::memory_order_release);
}

void Log::RemoveCapture(LogCapture* capture)
{
    LogState& s = State();
    std::lock_guard lock(s.captureMutex);
    s.captures.erase(std::remove(s.captures.begin(), s.captures.end(), capture), s.captures.end());
    s.captureCount.store(s.captures.size(), std::memory_order_release);
}

LogCapture::LogCapture()
{
    Log::AddCapture(this);
}

LogCapture::~LogCapture()
{
    Log::RemoveCapture(this);
}

void LogCapture::Append(LogRecord record)
{
    std::lock_guard lock(m_Mutex);
    m_Records.push_back(std::move(record));
}

std::vector<LogRecord> LogCapture::Records() const
{
    std::lock_guard lock(m_Mutex);
    return m_Records;
}

size_t LogCapture::Count(LogLevel level, std::string_view needle, std::string_view tag) const
{
    std::lock_guard lock(m_Mutex);
    return static_cast<size_t>(std::count_if(m_Records.begin(), m_Records.end(),
                                             [&](const LogRecord& r)
                                             {
                                                 return r.level == level && (tag.empty() || r.tag == tag) &&
                                                        (needle.empty() ||
                                                         r.message.find(needle) != std::string::npos);
                                             }));
}

void LogCapture::Clear()
{
    std::lock_guard lock(m_Mutex);
    m_Records.clear();
}

} // namespace SceneryEditorX
