// The memory map's legend as data: what the PNG and HTML legends show, in exact bytes, so that a
// reader (the demo's surfaces test) can compare it with the other figures without reading pictures.
#include "MemoryMap.h"
#include "TextFile.h"

namespace SceneryEditorX::Tool
{
namespace
{
std::string CsvField(const std::string& text)
{
    if (text.find_first_of(",\"\n") == std::string::npos)
        return text;
    std::string quoted = "\"";
    for (char c : text)
        quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}
} // namespace

bool WriteMemoryMapLegendCsv(const DumpModel& model, const std::string& path, std::string& error)
{
    std::string csv = std::string(kMemoryMapLegendCsvHeader) + '\n';
    for (const MemoryMapLegendEntry& e : MemoryMapLegend(model))
        csv += CsvField(e.key) + ',' + std::to_string(e.bytes) + ',' + std::to_string(e.count) + '\n';
    return WriteTextFile(path, csv, error);
}
} // namespace SceneryEditorX::Tool
