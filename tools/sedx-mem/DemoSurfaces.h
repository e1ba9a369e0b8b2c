#pragma once
// The demo's memory figures at one moment, and the check that its surfaces show the same ones: the
// console summary and tag table (GetStats, GetAllTagStats), the JSON and the memory map's legend
// (VMA's dump, BuildStatsString) and the timeline's last row (the same GetStats). All are taken at
// the demo's last frame, once streaming has stopped and the frames in flight have retired, so that
// no deferred destroy is held by VMA but no longer counted by its tag.

#include "Timeline.h"

#include <SceneryEditorX/Memory.h>
#include <SceneryEditorX/VmaDump/DumpModel.h>

#include <string>
#include <vector>

namespace SceneryEditorX::Tool
{
struct DemoFigures
{
    uint64_t frame = 0;         // the frame at which every figure was taken
    AllocationStats stats;      // GetStats
    std::vector<TagStats> tags; // GetAllTagStats
    std::string json;           // BuildStatsString(true)
};

/// Takes every figure now, at `frame`.
DemoFigures TakeDemoFigures(const MemoryAllocator& allocator, uint64_t frame);

/// "at frame 905, the last frame": the words every surface uses for the moment.
std::string DemoMoment(const DemoFigures& figures);

/// The summary line ("memory at frame F, the last frame: used ...") and the tag table, with the
/// internal tag explained under it.
void PrintDemoFigures(const DemoFigures& figures);

/// Where the surfaces disagree, one line each; empty when the tags add up to GetStats' used bytes
/// and allocations, the dump's totals equal GetStats' used and committed figures, and the dump's
/// allocations per tag (the memory map's legend) equal the tags' counters, and the timeline ends
/// with the same used, committed and peak figures, its peak never falls and no frame's used bytes
/// are above the peak.
std::vector<std::string> DemoSurfaceDisagreements(const DemoFigures& figures, const detail::DumpModel& model,
                                                  const std::vector<TimelineSample>& timeline);
} // namespace SceneryEditorX::Tool
