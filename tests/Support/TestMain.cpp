// The main() of every test executable: log level (SEDX_LOG_LEVEL=trace|info|warn|error|off), the
// Vulkan test environment and the validation listener.
#include "TestEnvironment.h"

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv)
{
    // Death tests re-execute the binary instead of forking a process that may run driver threads.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    ::testing::InitGoogleTest(&argc, argv);

    if (const char* level = std::getenv("SEDX_LOG_LEVEL"); level && *level)
    {
        if (const auto parsed = SceneryEditorX::Test::ParseLogLevel(level))
            SceneryEditorX::Log::SetLevel(*parsed);
        else
            std::fprintf(stderr, "SEDX_LOG_LEVEL='%s' is not one of trace, info, warn, error, off; ignored\n",
                         level);
    }

    SceneryEditorX::Test::InstallTestEnvironment();
    int result = RUN_ALL_TESTS();
    if (SceneryEditorX::Test::TeardownFailed())
    {
        std::fprintf(stderr, "FAILED: the Vulkan test device did not shut down cleanly (see above)\n");
        if (result == 0)
            result = 1;
    }
    return result;
}
