#include "Report.h"

#include "Commands.h"
#include "MemoryMap.h"
#include "TextFile.h"

#include <SceneryEditorX/VmaDump/DumpModel.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>

namespace SceneryEditorX::Tool
{
namespace
{
/// nlohmann's message without its "[json.exception...] " prefix.
std::string MessageOf(const nlohmann::json::exception& e)
{
    std::string what = e.what();
    if (const size_t close = what.find("] ");
        what.rfind("[json.exception", 0) == 0 && close != std::string::npos)
        what = what.substr(close + 2);
    return what;
}

/// Where and why text does not parse ("parse error at line 3, column 7: ...").
std::string JsonErrorOf(const std::string& text)
{
    try
    {
        [[maybe_unused]] const nlohmann::json parsed = nlohmann::json::parse(text);
    }
    catch (const nlohmann::json::exception& e)
    {
        return MessageOf(e);
    }
    return "not valid JSON";
}

/// VMA's dump without the detailed map (vmaBuildStatsString with detailedMap = VK_FALSE): the
/// statistics ("Total") without the blocks ("DefaultPools", "CustomPools") that the map draws.
bool IsDumpWithoutDetailedMap(const std::string& text)
{
    const nlohmann::json root = nlohmann::json::parse(text, nullptr, false);
    return root.is_object() && root.contains("Total") && root["Total"].is_object() &&
           !root.contains("DefaultPools") && !root.contains("CustomPools");
}
} // namespace

ReportFormat ReportFormatOf(const std::string& path)
{
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == ".png")
        return ReportFormat::Png;
    if (ext == ".html" || ext == ".htm")
        return ReportFormat::Html;
    return ReportFormat::Unknown;
}

bool WriteReport(const std::string& input, const std::string& output, std::string& error)
{
    const ReportFormat format = ReportFormatOf(output);
    if (format == ReportFormat::Unknown)
    {
        error = "unknown output format '" + output + "': the name must end in .png or .html";
        return false;
    }
    std::string text;
    if (!ReadTextFile(input, text, error))
        return false;
    std::string parseError;
    std::optional<detail::DumpModel> model;
    try
    {
        model = detail::ParseVmaDump(text, parseError);
    }
    catch (const nlohmann::json::exception& e)
    {
        // JSON of VMA's outline whose parts have the wrong types.
        parseError = "not a VMA statistics dump (" + MessageOf(e) + ")";
    }
    if (!model)
    {
        if (IsDumpWithoutDetailedMap(text))
            error =
                input +
                ": a VMA statistics dump without the detailed map (it has \"Total\" but no "
                "\"DefaultPools\"); the memory map needs the detailed map: write the dump with "
                "vmaBuildStatsString(allocator, &json, VK_TRUE) or MemoryAllocator::BuildStatsString(true)";
        else
            error = input + ": " +
                    (parseError == "not valid JSON" ? "invalid JSON: " + JsonErrorOf(text) : parseError);
        return false;
    }
    return format == ReportFormat::Png ? WriteMemoryMapPng(*model, output, error)
                                       : WriteMemoryMapHtml(*model, output, error);
}

int RunReport(const ReportOptions& options)
{
    std::string error;
    if (!WriteReport(options.input, options.output, error))
    {
        std::fprintf(stderr, "sedx-mem report: %s\n", error.c_str());
        return 1;
    }
    std::printf("wrote %s\n", options.output.c_str());
    return 0;
}
} // namespace SceneryEditorX::Tool
