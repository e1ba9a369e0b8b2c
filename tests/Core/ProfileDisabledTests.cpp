// Compiled with SEDX_ENABLE_PROFILING=0 (see tests/CMakeLists.txt): SEDX_PROFILE_SCOPE is nothing.
#include <SceneryEditorX/Core/Profile.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string_view>

#define SEDX_TEST_STRINGIFY2_(x) #x
#define SEDX_TEST_STRINGIFY_(x) SEDX_TEST_STRINGIFY2_(x)

namespace SceneryEditorX
{
namespace
{
// The disabled macro expands to an expression without any object, call or use of its argument.
static_assert(std::string_view(SEDX_TEST_STRINGIFY_(SEDX_PROFILE_SCOPE("name"))) == "((void)0)",
              "SEDX_PROFILE_SCOPE must compile to nothing when profiling is disabled");

std::atomic<int> g_Calls{0};
int g_NameEvaluations = 0;

void CountingSink(const char*, uint64_t)
{
    ++g_Calls;
}

[[maybe_unused]] const char* CountedName()
{
    ++g_NameEvaluations;
    return "Counted";
}

TEST(ProfileDisabled, ScopesNeverReachTheSinkNorEvaluateTheirName)
{
    g_Calls = 0;
    g_NameEvaluations = 0;
    SetProfileSink(&CountingSink);
    {
        SEDX_PROFILE_SCOPE("Disabled");
        SEDX_PROFILE_SCOPE(CountedName());
    }
    SetProfileSink(nullptr);
    EXPECT_EQ(g_Calls.load(), 0);
    EXPECT_EQ(g_NameEvaluations, 0);
}
} // namespace
} // namespace SceneryEditorX
