#pragma once
// The demo's timeline: one sample per frame, written as CSV and as a PNG plot.

#include <cstdint>
#include <string>
#include <vector>

namespace SceneryEditorX::Tool
{
struct TimelineSample
{
    uint64_t frame;
    uint64_t usedBytes;
    uint64_t committedBytes;
    uint64_t budgetBytes;
    float fragmentation; // ratio in [0, 1]
    uint32_t residentTiles;
    bool defragmented;    // a defragmentation ran in this frame
    bool reduced = false; // detail was reduced for the budget in this frame (sedx-mem demo --budget-mb)
    /// GetStats' peakUsedBytes at the frame's end: the highest used seen since Init, between frames
    /// too (a frame's uploads and deferred destroys can raise it above every frame-end usedBytes).
    uint64_t peakUsedBytes = 0;
};

/// The CSV header; then one row per sample, in the order given.
inline constexpr const char* kTimelineCsvHeader =
    "frame,used_bytes,committed_bytes,budget_bytes,fragmentation,resident_tiles,defragmented,reduced,"
    "peak_used_bytes";
bool WriteTimelineCsv(const std::vector<TimelineSample>& samples, const std::string& path,
                      std::string& error);

/// A kTimelineWidth × kTimelineHeight PNG: used, committed and budget (MiB, left axis) and
/// fragmentation (%, right axis) per frame, a vertical marker at each defragmentation, a mark on the
/// bottom axis at each frame that reduced detail for the budget, axes with
/// ticks and labels, a legend and a title. The title gives the last sample's used, committed and
/// peak used (the peak: the highest peakUsedBytes, or usedBytes where that is higher). A budget far above the
/// usage is named, not plotted, so that it does not flatten the other lines. No samples: an empty plot that
/// says so.
inline constexpr int kTimelineWidth = 1200;
inline constexpr int kTimelineHeight = 600;
bool WriteTimelinePng(const std::vector<TimelineSample>& samples, const std::string& path,
                      std::string& error);
} // namespace SceneryEditorX::Tool
