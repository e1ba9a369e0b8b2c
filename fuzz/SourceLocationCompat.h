#pragma once
// Fuzz build only (force-included by fuzz/CMakeLists.txt). The public API takes std::source_location,
// which libstdc++ 12 (Debian 12) defines only when the compiler has __builtin_source_location
// (clang >= 15, GCC >= 11). Debian's clang-14, the one that ships libFuzzer here, does not: its
// <source_location> is empty. This supplies the same interface from the older builtins (constexpr:
// clang-14 rejects a consteval current() in default arguments); with a
// compiler that has the builtin it does nothing.
#include <source_location> // first: empty under clang-14, so that later includes change nothing

#if defined(__clang__) && !__has_builtin(__builtin_source_location)
#include <cstdint>

namespace std
{
struct source_location
{
    static constexpr source_location current(uint_least32_t line = __builtin_LINE(),
                                             uint_least32_t column = __builtin_COLUMN(),
                                             const char* file = __builtin_FILE(),
                                             const char* function = __builtin_FUNCTION()) noexcept
    {
        source_location location;
        location.m_Line = line;
        location.m_Column = column;
        location.m_File = file;
        location.m_Function = function;
        return location;
    }
    constexpr source_location() noexcept = default;
    constexpr uint_least32_t line() const noexcept { return m_Line; }
    constexpr uint_least32_t column() const noexcept { return m_Column; }
    constexpr const char* file_name() const noexcept { return m_File; }
    constexpr const char* function_name() const noexcept { return m_Function; }

private:
    uint_least32_t m_Line = 0;
    uint_least32_t m_Column = 0;
    const char* m_File = "";
    const char* m_Function = "";
};
} // namespace std
#endif
