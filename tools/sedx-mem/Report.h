#pragma once
// `sedx-mem report`: the memory map of any dump in VMA's JSON format (vmaBuildStatsString with the
// detailed map), as a PNG or an HTML file chosen by the output's extension.

#include <string>

namespace SceneryEditorX::Tool
{
enum class ReportFormat
{
    Unknown,
    Png,
    Html,
};
/// By the extension, case-insensitive: .png → Png; .html, .htm → Html; else Unknown.
ReportFormat ReportFormatOf(const std::string& path);

/// Reads the dump at `input` and writes its map to `output`. False, with a one-line `error` (which
/// names the file), when the input cannot be read, is not JSON or not a VMA dump, the extension is
/// unknown, or the output cannot be written.
bool WriteReport(const std::string& input, const std::string& output, std::string& error);
} // namespace SceneryEditorX::Tool
