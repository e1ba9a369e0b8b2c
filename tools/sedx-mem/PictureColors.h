#pragma once
// The colours that the tool's pictures (the memory map and the timeline) share.

#include "Raster.h"

namespace SceneryEditorX::Tool
{
inline constexpr Rgb kBackgroundColor = Hex(0xFFFFFF);
inline constexpr Rgb kTextColor = Hex(0x222222);
/// Secondary text: figures beside a label, notes.
inline constexpr Rgb kMutedTextColor = Hex(0x666666);
/// Outlines of bars and legend swatches, axes and ticks.
inline constexpr Rgb kLineColor = Hex(0x555555);
} // namespace SceneryEditorX::Tool
