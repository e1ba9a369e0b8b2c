// `sedx-mem info`: devices, heaps, memory types and the extensions the allocator uses.
#include "Commands.h"

#include <SceneryEditorX/Memory.h>

#include <nlohmann/json.hpp>

#include <cstdio>

namespace SceneryEditorX::Tool
{
namespace
{
std::string VersionString(uint32_t v)
{
    return fmt::format("{}.{}.{}", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v));
}

std::string MemoryFlags(VkMemoryPropertyFlags f)
{
    std::string s;
    auto add = [&](VkMemoryPropertyFlags bit, const char* name)
    {
        if (f & bit)
            s += s.empty() ? name : std::string("|") + name;
    };
    add(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, "DEVICE_LOCAL");
    add(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, "HOST_VISIBLE");
    add(VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, "HOST_COHERENT");
    add(VK_MEMORY_PROPERTY_HOST_CACHED_BIT, "HOST_CACHED");
    add(VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT, "LAZILY_ALLOCATED");
    add(VK_MEMORY_PROPERTY_PROTECTED_BIT, "PROTECTED");
    return s.empty() ? "0" : s;
}
} // namespace

int RunInfo(const InfoOptions& options)
{
    Log::SetLevel(LogLevel::Warn);
    const std::vector<PhysicalDeviceInfo> devices = VulkanDevice::EnumeratePhysicalDevices();
    const int chosen = VulkanDevice::ChoosePhysicalDevice(devices, options.device);
    VulkanDeviceOptions deviceOptions;
    deviceOptions.deviceSelector = options.device;
    Ref<VulkanDevice> device = CreateToolDevice("info", deviceOptions);
    if (!device)
        return 1;
    std::vector<HeapBudget> budgets;
    if (MemoryAllocator::Init(device, device->GetApiVersion()))
    {
        budgets = MemoryAllocator::GetHeapBudgets();
        MemoryAllocator::Shutdown();
    }
    const VkPhysicalDeviceMemoryProperties& mem = device->GetMemoryProperties();

    nlohmann::json j;
    for (const PhysicalDeviceInfo& d : devices)
        j["devices"].push_back({{"index", d.index},
                                {"name", d.name},
                                {"type", PhysicalDeviceTypeName(d.type)},
                                {"apiVersion", VersionString(d.apiVersion)},
                                {"driverName", d.driverName},
                                {"driverInfo", d.driverInfo},
                                {"chosen", static_cast<int>(d.index) == chosen}});
    for (uint32_t h = 0; h < mem.memoryHeapCount; ++h)
    {
        nlohmann::json heap = {
            {"index", h},
            {"size", mem.memoryHeaps[h].size},
            {"deviceLocal", (mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0}};
        if (h < budgets.size())
        {
            heap["budget"] = budgets[h].budgetBytes;
            heap["usage"] = budgets[h].usageBytes;
        }
        j["heaps"].push_back(heap);
    }
    for (uint32_t t = 0; t < mem.memoryTypeCount; ++t)
        j["memoryTypes"].push_back({{"index", t},
                                    {"heap", mem.memoryTypes[t].heapIndex},
                                    {"flags", MemoryFlags(mem.memoryTypes[t].propertyFlags)}});
    const DeviceCapabilities& caps = device->GetCapabilities();
    j["allocatorFeatures"] = {{"memoryBudget", caps.memoryBudget},
                              {"memoryPriority", caps.memoryPriority},
                              {"dedicatedAllocation", caps.dedicatedAllocation},
                              {"bindMemory2", caps.bindMemory2},
                              {"bufferDeviceAddress", caps.bufferDeviceAddress},
                              {"maintenance4", caps.maintenance4}};
    j["enabledExtensions"] = device->GetEnabledExtensions();

    if (options.json)
    {
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf("Vulkan devices:\n");
    for (const auto& d : j["devices"])
        std::printf("  %s[%d] %s (%s), Vulkan %s, driver %s %s\n", d["chosen"].get<bool>() ? "* " : "  ",
                    d["index"].get<int>(), d["name"].get<std::string>().c_str(),
                    d["type"].get<std::string>().c_str(), d["apiVersion"].get<std::string>().c_str(),
                    d["driverName"].get<std::string>().c_str(), d["driverInfo"].get<std::string>().c_str());
    std::printf("Heaps:\n");
    for (const auto& h : j["heaps"])
        std::printf("  heap %d: %.1f MiB%s, budget %.1f MiB, usage %.1f MiB\n", h["index"].get<int>(),
                    h["size"].get<double>() / 1048576.0, h["deviceLocal"].get<bool>() ? " DEVICE_LOCAL" : "",
                    h.value("budget", 0.0) / 1048576.0, h.value("usage", 0.0) / 1048576.0);
    std::printf("Memory types:\n");
    for (const auto& t : j["memoryTypes"])
        std::printf("  type %d (heap %d): %s\n", t["index"].get<int>(), t["heap"].get<int>(),
                    t["flags"].get<std::string>().c_str());
    std::printf("Allocator features:");
    for (const auto& [name, on] : j["allocatorFeatures"].items())
        std::printf(" %s=%s", name.c_str(), on.get<bool>() ? "on" : "off");
    std::printf("\n");
    return 0;
}
} // namespace SceneryEditorX::Tool
