#pragma once
/// @file ExampleSupport.h
/// What the examples use to check themselves; not part of any spec example.

#include <SceneryEditorX/Memory.h>

#include <cstdint>
#include <source_location>
#include <string_view>

namespace SceneryEditorX::Examples
{

/// Logs one failed check (tag "Examples") and returns false, so that an example can `return` it.
bool ReportCheckFailed(std::string_view expression,
                       std::source_location where = std::source_location::current());

/// Live allocations of one tag (0 when the tag has none or does not exist).
uint64_t LiveAllocationsOfTag(std::string_view tag);

} // namespace SceneryEditorX::Examples

/// Returns false from the enclosing example when `cond` does not hold.
#define SEDX_EXAMPLE_CHECK(cond)                                                                             \
    do                                                                                                       \
    {                                                                                                        \
        if (!(cond))                                                                                         \
            return ::SceneryEditorX::Examples::ReportCheckFailed(#cond);                                     \
    } while (false)
