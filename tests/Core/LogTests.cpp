#include "Support/TestEnvironment.h"

#include <SceneryEditorX/Core/Log.h>

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using Test::ScopedLogLevel;

/// Re-enables a tag at the end of a test even when an assertion returned early.
class ScopedTagDisabled
{
public:
    explicit ScopedTagDisabled(std::string tag) : m_Tag(std::move(tag)) { Log::SetTagEnabled(m_Tag, false); }
    ~ScopedTagDisabled() { Log::SetTagEnabled(m_Tag, true); }
    ScopedTagDisabled(const ScopedTagDisabled&) = delete;
    ScopedTagDisabled& operator=(const ScopedTagDisabled&) = delete;

private:
    std::string m_Tag;
};

TEST(Log, TagsAppearInCapturedRecords)
{
    ScopedLogLevel level(LogLevel::Trace);
    LogCapture capture;
    SEDX_CORE_INFO_TAG("LogTest", "tagged line");
    SEDX_CORE_WARN("untagged line");
    const std::vector<LogRecord> records = capture.Records();
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].level, LogLevel::Info);
    EXPECT_EQ(records[0].tag, "LogTest");
    EXPECT_EQ(records[0].message, "tagged line");
    EXPECT_EQ(records[1].level, LogLevel::Warn);
    EXPECT_EQ(records[1].tag, "");
    EXPECT_EQ(records[1].message, "untagged line");
    EXPECT_EQ(capture.Count(LogLevel::Info, "tagged", "LogTest"), 1u);
    EXPECT_EQ(capture.Count(LogLevel::Info, "tagged", "OtherTag"), 0u);
    EXPECT_EQ(capture.Count(LogLevel::Warn), 1u);
}

TEST(Log, EveryMacroWritesItsLevel)
{
    ScopedLogLevel level(LogLevel::Trace);
    LogCapture capture;
    SEDX_CORE_TRACE("t");
    SEDX_CORE_INFO("i");
    SEDX_CORE_WARN("w");
    SEDX_CORE_ERROR("e");
    SEDX_CORE_TRACE_TAG("Tag", "t");
    SEDX_CORE_INFO_TAG("Tag", "i");
    SEDX_CORE_WARN_TAG("Tag", "w");
    SEDX_CORE_ERROR_TAG("Tag", "e");
    for (LogLevel l : {LogLevel::Trace, LogLevel::Info, LogLevel::Warn, LogLevel::Error})
    {
        EXPECT_EQ(capture.Count(l), 2u) << static_cast<int>(l);
        EXPECT_EQ(capture.Count(l, {}, "Tag"), 1u) << static_cast<int>(l);
    }
}

TEST(Log, LevelFilterDropsLowerLevels)
{
    ScopedLogLevel level(LogLevel::Warn);
    EXPECT_EQ(Log::GetLevel(), LogLevel::Warn);
    EXPECT_FALSE(Log::ShouldLog(LogLevel::Info));
    EXPECT_TRUE(Log::ShouldLog(LogLevel::Error));
    LogCapture capture;
    SEDX_CORE_TRACE_TAG("LogTest", "dropped trace");
    SEDX_CORE_INFO_TAG("LogTest", "dropped info");
    SEDX_CORE_WARN_TAG("LogTest", "kept warn");
    SEDX_CORE_ERROR_TAG("LogTest", "kept error");
    const std::vector<LogRecord> records = capture.Records();
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].message, "kept warn");
    EXPECT_EQ(records[1].message, "kept error");
}

TEST(Log, LevelOffDropsEverything)
{
    ScopedLogLevel level(LogLevel::Off);
    LogCapture capture;
    SEDX_CORE_ERROR("dropped");
    EXPECT_TRUE(capture.Records().empty());
}

TEST(Log, TagFilterDropsOneTagOnly)
{
    ScopedLogLevel level(LogLevel::Trace);
    LogCapture capture;
    {
        ScopedTagDisabled disabled("Noisy");
        EXPECT_FALSE(Log::IsTagEnabled("Noisy"));
        EXPECT_TRUE(Log::IsTagEnabled("Quiet"));
        SEDX_CORE_ERROR_TAG("Noisy", "dropped, even at error level");
        SEDX_CORE_INFO_TAG("Quiet", "kept");
        SEDX_CORE_INFO("untagged kept");
    }
    EXPECT_TRUE(Log::IsTagEnabled("Noisy"));
    SEDX_CORE_INFO_TAG("Noisy", "kept again");
    const std::vector<LogRecord> records = capture.Records();
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[0].tag, "Quiet");
    EXPECT_EQ(records[1].message, "untagged kept");
    EXPECT_EQ(records[2].message, "kept again");
    EXPECT_EQ(capture.Count(LogLevel::Error, {}, "Noisy"), 0u);
}

TEST(Log, BracesFormatArguments)
{
    ScopedLogLevel level(LogLevel::Trace);
    LogCapture capture;
    SEDX_CORE_INFO_TAG("LogTest", "{} + {} = {}, name '{}', hex {:#x}", 1, 2, 3, std::string("sedx"), 255);
    SEDX_CORE_WARN("{:.2f} MiB", 1.5);
    const std::vector<LogRecord> records = capture.Records();
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].message, "1 + 2 = 3, name 'sedx', hex 0xff");
    EXPECT_EQ(records[1].message, "1.50 MiB");
}

TEST(Log, ClearEmptiesTheCaptureAndDestroyedCapturesStopRecording)
{
    ScopedLogLevel level(LogLevel::Trace);
    LogCapture outer;
    {
        LogCapture inner;
        SEDX_CORE_INFO("both");
        EXPECT_EQ(inner.Records().size(), 1u);
        inner.Clear();
        EXPECT_TRUE(inner.Records().empty());
    }
    SEDX_CORE_INFO("outer only");
    EXPECT_EQ(outer.Records().size(), 2u);
}

TEST(Log, WarningsAndErrorsGoToStderrTraceAndInfoToStdout)
{
    ScopedLogLevel level(LogLevel::Trace);
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    SEDX_CORE_TRACE_TAG("LogTest", "trace line");
    SEDX_CORE_INFO_TAG("LogTest", "info line");
    SEDX_CORE_WARN_TAG("LogTest", "warn line");
    SEDX_CORE_ERROR_TAG("LogTest", "error line");
    const std::string err = ::testing::internal::GetCapturedStderr();
    const std::string out = ::testing::internal::GetCapturedStdout();
    const auto count = [](const std::string& text, const std::string& needle)
    {
        size_t n = 0;
        for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
            ++n;
        return n;
    };
    EXPECT_EQ(count(out, "[LogTest] trace line"), 1u) << out;
    EXPECT_EQ(count(out, "[LogTest] info line"), 1u) << out;
    EXPECT_EQ(count(out, "[LogTest]"), 2u) << out;
    EXPECT_EQ(count(err, "[LogTest] warn line"), 1u) << err;
    EXPECT_EQ(count(err, "[LogTest] error line"), 1u) << err;
    EXPECT_EQ(count(err, "[LogTest]"), 2u) << err;
}

TEST(LogThreads, CaptureRecordsEveryLineFromSeveralThreads)
{
    constexpr int kThreads = 8;
    constexpr int kLines = 50;
    ScopedLogLevel level(LogLevel::Trace);
    LogCapture capture;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back(
            [t]
            {
                for (int i = 0; i < kLines; ++i)
                    SEDX_CORE_TRACE_TAG("LogThread", "thread {} line {}", t, i);
            });
    for (std::thread& thread : threads)
        thread.join();
    EXPECT_EQ(capture.Count(LogLevel::Trace, {}, "LogThread"), static_cast<size_t>(kThreads * kLines));
    for (int t = 0; t < kThreads; ++t)
        EXPECT_EQ(capture.Count(LogLevel::Trace, fmt::format("thread {} line", t), "LogThread"),
                  static_cast<size_t>(kLines));
}

TEST(LogThreads, FiltersMayChangeWhileOtherThreadsLog)
{
    ScopedLogLevel level(LogLevel::Trace);
    LogCapture capture;
    std::thread writer(
        []
        {
            for (int i = 0; i < 200; ++i)
                SEDX_CORE_TRACE_TAG(i % 2 ? "Toggled" : "Steady", "line {}", i);
        });
    for (int i = 0; i < 200; ++i)
        Log::SetTagEnabled("Toggled", i % 2 == 0);
    writer.join();
    Log::SetTagEnabled("Toggled", true);
    EXPECT_EQ(capture.Count(LogLevel::Trace, {}, "Steady"), 100u);
}
} // namespace
} // namespace SceneryEditorX
