// Always compiled as a release build would be (NDEBUG, SEDX_ENABLE_ASSERTS=0; see tests/CMakeLists.txt):
// SEDX_CORE_ASSERT does not evaluate its condition, SEDX_CORE_VERIFY evaluates it exactly once and on
// failure logs one line tagged "Assert" without aborting.
#include "Support/TestEnvironment.h"

#include <SceneryEditorX/Core/Assert.h>

#include <gtest/gtest.h>

#ifndef NDEBUG
#error "AssertReleaseTests.cpp must be compiled with NDEBUG"
#endif
static_assert(SEDX_ENABLE_ASSERTS == 0, "AssertReleaseTests.cpp must be compiled with SEDX_ENABLE_ASSERTS=0");

namespace SceneryEditorX
{
namespace
{
using ::SceneryEditorX::Test::ScopedLogLevel;

TEST(AssertRelease, AssertDoesNotEvaluateItsCondition)
{
    ScopedLogLevel level(LogLevel::Trace);
    LogCapture capture;
    int evaluations = 0;
    SEDX_CORE_ASSERT(++evaluations < 0);
    SEDX_CORE_ASSERT(++evaluations < 0, "message {}", 1);
    EXPECT_EQ(evaluations, 0);
    EXPECT_TRUE(capture.Records().empty());
}

TEST(AssertRelease, FailingVerifyEvaluatesOnceAndLogsOneLineWithoutAborting)
{
    ScopedLogLevel level(LogLevel::Trace);
    LogCapture capture;
    int evaluations = 0;
    SEDX_CORE_VERIFY(++evaluations == 0, "the value was {}", 42);
    EXPECT_EQ(evaluations, 1);
    const std::vector<LogRecord> records = capture.Records();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].level, LogLevel::Error);
    EXPECT_EQ(records[0].tag, "Assert");
    EXPECT_NE(records[0].message.find("VERIFY failed"), std::string::npos) << records[0].message;
    EXPECT_NE(records[0].message.find("++evaluations == 0"), std::string::npos) << records[0].message;
    EXPECT_NE(records[0].message.find("AssertReleaseTests.cpp"), std::string::npos) << records[0].message;
    EXPECT_NE(records[0].message.find("the value was 42"), std::string::npos) << records[0].message;
}

TEST(AssertRelease, FailingVerifyWithoutMessageLogsTheExpression)
{
    ScopedLogLevel level(LogLevel::Trace);
    LogCapture capture;
    int evaluations = 0;
    SEDX_CORE_VERIFY(++evaluations > 5);
    SEDX_CORE_VERIFY(++evaluations > 5);
    EXPECT_EQ(evaluations, 2);
    EXPECT_EQ(capture.Count(LogLevel::Error, "VERIFY failed: ++evaluations > 5", "Assert"), 2u);
}

TEST(AssertRelease, PassingVerifyEvaluatesOnceAndLogsNothing)
{
    ScopedLogLevel level(LogLevel::Trace);
    LogCapture capture;
    int evaluations = 0;
    SEDX_CORE_VERIFY(++evaluations == 1, "unused {}", 0);
    EXPECT_EQ(evaluations, 1);
    EXPECT_TRUE(capture.Records().empty());
}

TEST(AssertRelease, VerifyWorksAsASingleStatement)
{
    int evaluations = 0;
    if (evaluations == 0)
        SEDX_CORE_VERIFY(++evaluations == 1);
    else
        SEDX_CORE_VERIFY(false);
    EXPECT_EQ(evaluations, 1);
}
} // namespace
} // namespace SceneryEditorX
