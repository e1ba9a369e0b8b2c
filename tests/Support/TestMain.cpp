// The main() of every test executable: log level (SEDX_LOG_LEVEL=trace|info|warn|error|off), the
// Vulkan test environment and the validation listener.
#include "TestEnvironment.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <execinfo.h>
#include <unistd.h>

namespace
{
// A crash prints the stack (offsets into the binary, which addr2line resolves against the unstripped
// build) before the default action: the GPU machine has no debugger.
void PrintStackAndDie(int signal)
{
    void* frames[64];
    const int count = backtrace(frames, 64);
    const char header[] = "\n*** fatal signal; stack:\n";
    [[maybe_unused]] const ssize_t written = write(STDERR_FILENO, header, sizeof header - 1);
    backtrace_symbols_fd(frames, count, STDERR_FILENO);
    std::signal(signal, SIG_DFL);
    std::raise(signal);
}
} // namespace

int main(int argc, char** argv)
{
    // Death tests re-execute the binary instead of forking a process that may run driver threads.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    ::testing::InitGoogleTest(&argc, argv);
    std::signal(SIGSEGV, PrintStackAndDie);
    std::signal(SIGBUS, PrintStackAndDie);

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
