#pragma once
// Statistics: VMA's JSON dump taken consistently, and the fragmentation figure computed from it.

#include <string>

namespace SceneryEditorX::detail
{
class MemorySystem;

/// VMA's JSON dump, taken while no allocation is created, named or freed.
std::string BuildStatsJson(MemorySystem& system, bool detailedMap);
/// Computes the fragmentation ratio now (a walk), stores it with its frame and returns it.
float ComputeFragmentationNow(MemorySystem& system);
/// At a new frame: recomputes the fragmentation figure when something changed and it is
/// fragmentationRefreshFrames old (never when that setting is 0).
void RefreshFragmentationIfDue(MemorySystem& system, uint64_t frame);
} // namespace SceneryEditorX::detail
