// The checks as this build type compiles them (debug: SEDX_ENABLE_ASSERTS=1). The release behaviour
// is tested in AssertReleaseTests.cpp, which is always compiled with NDEBUG and SEDX_ENABLE_ASSERTS=0.
#include "Support/TestEnvironment.h"

#include <SceneryEditorX/Core/Assert.h>

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace SceneryEditorX
{
namespace
{
using ::SceneryEditorX::Test::ScopedLogLevel;

int g_Evaluations = 0;

bool CountedTrue()
{
    ++g_Evaluations;
    return true;
}

[[maybe_unused]] bool CountedFalse()
{
    ++g_Evaluations;
    return false;
}

TEST(Assert, PassingChecksEvaluateAsTheBuildSaysAndLogNothing)
{
    ScopedLogLevel level(LogLevel::Trace);
    LogCapture capture;
    g_Evaluations = 0;
    SEDX_CORE_VERIFY(CountedTrue());
    SEDX_CORE_VERIFY(CountedTrue(), "with a message {}", 1);
    EXPECT_EQ(g_Evaluations, 2);
    SEDX_CORE_ASSERT(CountedTrue());
    SEDX_CORE_ASSERT(CountedTrue(), "with a message {}", 2);
    EXPECT_EQ(g_Evaluations, SEDX_ENABLE_ASSERTS ? 4 : 2);
    EXPECT_EQ(capture.Count(LogLevel::Error, {}, "Assert"), 0u);
}

#if SEDX_ENABLE_ASSERTS
// The statement runs in a child process. The logger writes to stdout; point stdout at stderr there
// so that the death test can match the logged line.
void LogToStderr()
{
    std::fflush(stdout);
    dup2(STDERR_FILENO, STDOUT_FILENO);
    Log::SetLevel(LogLevel::Trace);
    Log::SetTagEnabled("Assert", true);
}

TEST(AssertDeathTest, FailingAssertLogsAndAborts)
{
    EXPECT_EXIT(
        {
            LogToStderr();
            SEDX_CORE_ASSERT(1 + 1 == 3, "arithmetic is {}", "broken");
        },
        ::testing::KilledBySignal(SIGABRT),
        "\\[Assert\\] ASSERT failed: 1 \\+ 1 == 3 .*AssertTests.cpp.*arithmetic is broken");
}

TEST(AssertDeathTest, FailingVerifyLogsAndAbortsWhenAssertsAreOn)
{
    EXPECT_EXIT(
        {
            LogToStderr();
            SEDX_CORE_VERIFY(CountedFalse());
        },
        ::testing::KilledBySignal(SIGABRT), "\\[Assert\\] VERIFY failed: CountedFalse\\(\\)");
}

TEST(AssertDeathTest, FailingVerifyEvaluatesOnceBeforeAborting)
{
    EXPECT_EXIT(
        {
            LogToStderr();
            g_Evaluations = 0;
            SEDX_CORE_VERIFY(CountedFalse(), "evaluated {} time(s)", g_Evaluations);
        },
        ::testing::KilledBySignal(SIGABRT), "evaluated 1 time\\(s\\)");
}
#else
TEST(AssertDeathTest, FailingChecksAbortOnlyWhenAssertsAreOn)
{
    GTEST_SKIP() << "this build has SEDX_ENABLE_ASSERTS=0; AssertReleaseTests.cpp covers it";
}
#endif
} // namespace
} // namespace SceneryEditorX
