// Compiled with SEDX_ENABLE_PROFILING=1 (see tests/CMakeLists.txt): scopes reach the sink.
#include <SceneryEditorX/Core/Profile.h>

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

static_assert(SEDX_ENABLE_PROFILING == 1,
              "ProfileEnabledTests.cpp must be compiled with SEDX_ENABLE_PROFILING=1");

namespace SceneryEditorX
{
namespace
{
std::mutex g_Mutex;
std::vector<std::string> g_Names;
std::vector<uint64_t> g_Durations;

void RecordingSink(const char* name, uint64_t durationNs)
{
    std::lock_guard lock(g_Mutex);
    g_Names.emplace_back(name);
    g_Durations.push_back(durationNs);
}

class ProfileEnabled : public ::testing::Test
{
protected:
    void SetUp() override
    {
        std::lock_guard lock(g_Mutex);
        g_Names.clear();
        g_Durations.clear();
        SetProfileSink(&RecordingSink);
    }
    void TearDown() override { SetProfileSink(nullptr); }
};

void TimedWork()
{
    SEDX_PROFILE_SCOPE("TimedWork");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

TEST_F(ProfileEnabled, SinkReceivesTheScopeNameWhenTheScopeEnds)
{
    EXPECT_EQ(GetProfileSink(), &RecordingSink);
    TimedWork();
    std::lock_guard lock(g_Mutex);
    ASSERT_EQ(g_Names.size(), 1u);
    EXPECT_EQ(g_Names[0], "TimedWork");
    EXPECT_GE(g_Durations[0], 1'000'000u) << "the scope slept 2 ms";
}

TEST_F(ProfileEnabled, NestedAndRepeatedScopesAreReportedInsideOut)
{
    {
        SEDX_PROFILE_SCOPE("Outer");
        SEDX_PROFILE_SCOPE("Inner"); // two scopes in one block need distinct variable names
        {
            SEDX_PROFILE_SCOPE("Innermost");
        }
    }
    std::lock_guard lock(g_Mutex);
    EXPECT_EQ(g_Names, (std::vector<std::string>{"Innermost", "Inner", "Outer"}));
}

TEST_F(ProfileEnabled, NoSinkMeansNoCall)
{
    SetProfileSink(nullptr);
    {
        SEDX_PROFILE_SCOPE("Unobserved");
    }
    std::lock_guard lock(g_Mutex);
    EXPECT_TRUE(g_Names.empty());
}
} // namespace
} // namespace SceneryEditorX
