#include "Support/TestEnvironment.h"
#include "Testing/Builders.h"

#include <SceneryEditorX/Vulkan/VulkanDevice.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>
#include <string>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using ::SceneryEditorX::Test::FindMemoryType;

using ::SceneryEditorX::Test::BufferInfo;
using ::SceneryEditorX::Test::DeviceTest;
using ::SceneryEditorX::Test::ScopedEnv;

bool Contains(const std::vector<std::string>& list, const char* name)
{
    return std::find(list.begin(), list.end(), name) != list.end();
}

std::vector<std::string> DeviceExtensions(VkPhysicalDevice physicalDevice)
{
    uint32_t count = 0;
    vkEnumerateDeviceExtensionProperties(physicalDevice, nullptr, &count, nullptr);
    std::vector<VkExtensionProperties> properties(count);
    vkEnumerateDeviceExtensionProperties(physicalDevice, nullptr, &count, properties.data());
    std::vector<std::string> names;
    for (const VkExtensionProperties& p : properties)
        names.emplace_back(p.extensionName);
    return names;
}

PhysicalDeviceInfo MakeInfo(uint32_t index, std::string name, VkPhysicalDeviceType type,
                            uint32_t apiVersion = VK_API_VERSION_1_3)
{
    PhysicalDeviceInfo info;
    info.index = index;
    info.name = std::move(name);
    info.type = type;
    info.apiVersion = apiVersion;
    return info;
}

/// A list of devices with one entry per type, in the given order; names are "<type> device".
std::vector<PhysicalDeviceInfo> MakeList(const std::vector<VkPhysicalDeviceType>& types)
{
    std::vector<PhysicalDeviceInfo> list;
    for (VkPhysicalDeviceType type : types)
        list.push_back(MakeInfo(static_cast<uint32_t>(list.size()),
                                std::string(PhysicalDeviceTypeName(type)) + " device", type));
    return list;
}

// ------------------------------------------------------------------ the device of the test process

class VulkanDeviceTest : public DeviceTest
{
};

TEST_F(VulkanDeviceTest, CreationWithValidationGivesAWorkingDevice)
{
    const VulkanDevice& device = GetDevice();
    EXPECT_TRUE(device.IsValidationEnabled());
    EXPECT_NE(device.GetInstance(), VK_NULL_HANDLE);
    EXPECT_NE(device.GetPhysicalDevice(), VK_NULL_HANDLE);
    EXPECT_NE(device.GetDevice(), VK_NULL_HANDLE);
    EXPECT_NE(device.GetQueue(), VK_NULL_HANDLE);
    EXPECT_GE(device.GetApiVersion(), VK_API_VERSION_1_1);
    EXPECT_EQ(VK_API_VERSION_PATCH(device.GetApiVersion()), 0u) << "only major.minor is kept";
    EXPECT_LE(device.GetApiVersion(), device.GetProperties().apiVersion);
    EXPECT_EQ(device.GetInfo().name, device.GetProperties().deviceName);
    EXPECT_EQ(device.GetInfo().type, device.GetProperties().deviceType);
    EXPECT_GT(device.GetMemoryProperties().memoryTypeCount, 0u);
    EXPECT_GT(device.GetMemoryProperties().memoryHeapCount, 0u);
    EXPECT_TRUE(device.GetCapabilities().debugUtils) << "validation needs VK_EXT_debug_utils";
    EXPECT_EQ(device.GetValidationErrorCount(), 0u);
    EXPECT_EQ(device.GetValidationWarningCount(), 0u);

    uint32_t familyCount = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(device.GetPhysicalDevice(), &familyCount, nullptr);
    std::vector<VkQueueFamilyProperties> families(familyCount);
    vkGetPhysicalDeviceQueueFamilyProperties(device.GetPhysicalDevice(), &familyCount, families.data());
    ASSERT_LT(device.GetQueueFamilyIndex(), familyCount);
    EXPECT_NE(families[device.GetQueueFamilyIndex()].queueFlags &
                  (VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT | VK_QUEUE_TRANSFER_BIT),
              0u);
    EXPECT_EQ(device.WaitIdle(), VK_SUCCESS);
}

TEST_F(VulkanDeviceTest, EnumeratePhysicalDevicesListsTheChosenDevice)
{
    const std::vector<PhysicalDeviceInfo> devices = VulkanDevice::EnumeratePhysicalDevices();
    ASSERT_FALSE(devices.empty());
    for (size_t i = 0; i < devices.size(); ++i)
    {
        EXPECT_EQ(devices[i].index, i);
        EXPECT_FALSE(devices[i].name.empty());
    }
    // The same rule (SEDX_DEVICE, then the best) that chose the test device.
    const int chosen = VulkanDevice::ChoosePhysicalDevice(devices, "");
    ASSERT_GE(chosen, 0);
    EXPECT_EQ(devices[static_cast<size_t>(chosen)].name, GetDevice().GetInfo().name);
    EXPECT_EQ(devices[static_cast<size_t>(chosen)].driverName, GetDevice().GetInfo().driverName);
}

TEST_F(VulkanDeviceTest, CapabilitiesAgreeWithTheEnabledExtensions)
{
    const VulkanDevice& device = GetDevice();
    const DeviceCapabilities& caps = device.GetCapabilities();
    const std::vector<std::string>& enabled = device.GetEnabledExtensions();

    EXPECT_EQ(caps.memoryBudget, Contains(enabled, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME));
    EXPECT_EQ(caps.memoryPriority, Contains(enabled, VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME));
    if (device.GetApiVersion() >= VK_API_VERSION_1_3)
    {
        EXPECT_FALSE(Contains(enabled, VK_KHR_MAINTENANCE_4_EXTENSION_NAME)) << "maintenance4 is core in 1.3";
    }
    else
    {
        EXPECT_EQ(caps.maintenance4, Contains(enabled, VK_KHR_MAINTENANCE_4_EXTENSION_NAME));
    }
    if (caps.bufferDeviceAddress)
    {
        EXPECT_GE(device.GetApiVersion(), VK_API_VERSION_1_2)
            << "bufferDeviceAddress is the 1.2 core feature";
    }
    EXPECT_TRUE(caps.dedicatedAllocation) << "core in Vulkan 1.1";
    EXPECT_TRUE(caps.bindMemory2) << "core in Vulkan 1.1";

    const std::set<std::string> unique(enabled.begin(), enabled.end());
    EXPECT_EQ(unique.size(), enabled.size()) << "an extension is listed twice";
    const std::vector<std::string> offered = DeviceExtensions(device.GetPhysicalDevice());
    for (const std::string& name : enabled)
        EXPECT_TRUE(Contains(offered, name.c_str()))
            << name << " is enabled but the device does not offer it";
}

TEST_F(VulkanDeviceTest, EverythingTheDeviceOffersIsDetectedAndEnabled)
{
    const VulkanDevice& device = GetDevice();
    const DeviceCapabilities& caps = device.GetCapabilities();
    const std::vector<std::string> offered = DeviceExtensions(device.GetPhysicalDevice());

    VkPhysicalDeviceMemoryPriorityFeaturesEXT priority{
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT};
    VkPhysicalDeviceVulkan12Features features12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    VkPhysicalDeviceVulkan13Features features13{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
    VkPhysicalDeviceMaintenance4Features maintenance4{
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_FEATURES};
    VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    const bool hasPriority = Contains(offered, VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME);
    const bool hasMaintenance4Ext = Contains(offered, VK_KHR_MAINTENANCE_4_EXTENSION_NAME);
    void* chain = nullptr;
    if (hasPriority)
    {
        priority.pNext = chain;
        chain = &priority;
    }
    if (device.GetApiVersion() >= VK_API_VERSION_1_2)
    {
        features12.pNext = chain;
        chain = &features12;
    }
    if (device.GetApiVersion() >= VK_API_VERSION_1_3)
    {
        features13.pNext = chain;
        chain = &features13;
    }
    else if (hasMaintenance4Ext)
    {
        maintenance4.pNext = chain;
        chain = &maintenance4;
    }
    features.pNext = chain;
    vkGetPhysicalDeviceFeatures2(device.GetPhysicalDevice(), &features);

    EXPECT_EQ(caps.memoryBudget, Contains(offered, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME));
    EXPECT_EQ(caps.memoryPriority, hasPriority && priority.memoryPriority == VK_TRUE);
    EXPECT_EQ(caps.bufferDeviceAddress,
              device.GetApiVersion() >= VK_API_VERSION_1_2 && features12.bufferDeviceAddress == VK_TRUE);
    const bool maintenance4Offered = device.GetApiVersion() >= VK_API_VERSION_1_3
                                         ? features13.maintenance4 == VK_TRUE
                                         : hasMaintenance4Ext && maintenance4.maintenance4 == VK_TRUE;
    EXPECT_EQ(caps.maintenance4, maintenance4Offered);
}

// The validation layer complains when a feature is used that was not enabled: using each reported
// capability once, validation-clean, shows that the feature bits were really turned on.
TEST_F(VulkanDeviceTest, ReportedCapabilitiesAreUsableWithoutValidationMessages)
{
    const VulkanDevice& device = GetDevice();
    const DeviceCapabilities& caps = device.GetCapabilities();
    VkDevice vk = device.GetDevice();

    VkBufferCreateInfo bufferInfo{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bufferInfo.size = 4096;
    bufferInfo.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    if (caps.bufferDeviceAddress)
        bufferInfo.usage |= VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
    bufferInfo.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    VkBuffer buffer = VK_NULL_HANDLE;
    ASSERT_EQ(vkCreateBuffer(vk, &bufferInfo, nullptr, &buffer), VK_SUCCESS);

    VkMemoryDedicatedRequirements dedicated{VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS};
    VkMemoryRequirements2 requirements{VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2};
    requirements.pNext = &dedicated;
    VkBufferMemoryRequirementsInfo2 requirementsInfo{VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2};
    requirementsInfo.buffer = buffer;
    vkGetBufferMemoryRequirements2(vk, &requirementsInfo, &requirements);

    if (caps.maintenance4 && device.GetApiVersion() >= VK_API_VERSION_1_3)
    {
        VkDeviceBufferMemoryRequirements fromInfo{VK_STRUCTURE_TYPE_DEVICE_BUFFER_MEMORY_REQUIREMENTS};
        fromInfo.pCreateInfo = &bufferInfo;
        VkMemoryRequirements2 withoutBuffer{VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2};
        vkGetDeviceBufferMemoryRequirements(vk, &fromInfo, &withoutBuffer);
        EXPECT_EQ(withoutBuffer.memoryRequirements.size, requirements.memoryRequirements.size);
    }

    const std::optional<uint32_t> type =
        FindMemoryType(device.GetMemoryProperties(), requirements.memoryRequirements.memoryTypeBits, 0,
                       VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    ASSERT_TRUE(type.has_value());
    VkMemoryAllocateInfo allocateInfo{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    allocateInfo.allocationSize = requirements.memoryRequirements.size;
    allocateInfo.memoryTypeIndex = *type;
    const void** tail = &allocateInfo.pNext;
    VkMemoryDedicatedAllocateInfo dedicatedInfo{VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO};
    dedicatedInfo.buffer = buffer;
    *tail = &dedicatedInfo;
    tail = &dedicatedInfo.pNext;
    VkMemoryAllocateFlagsInfo flagsInfo{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO};
    flagsInfo.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
    if (caps.bufferDeviceAddress)
    {
        *tail = &flagsInfo;
        tail = &flagsInfo.pNext;
    }
    VkMemoryPriorityAllocateInfoEXT priorityInfo{VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT};
    priorityInfo.priority = 0.75f;
    if (caps.memoryPriority)
    {
        *tail = &priorityInfo;
        tail = &priorityInfo.pNext;
    }
    VkDeviceMemory memory = VK_NULL_HANDLE;
    ASSERT_EQ(vkAllocateMemory(vk, &allocateInfo, nullptr, &memory), VK_SUCCESS);

    VkBindBufferMemoryInfo bindInfo{VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO}; // bind_memory2
    bindInfo.buffer = buffer;
    bindInfo.memory = memory;
    EXPECT_EQ(vkBindBufferMemory2(vk, 1, &bindInfo), VK_SUCCESS);

    if (caps.bufferDeviceAddress)
    {
        VkBufferDeviceAddressInfo addressInfo{VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO};
        addressInfo.buffer = buffer;
        EXPECT_NE(vkGetBufferDeviceAddress(vk, &addressInfo), 0u);
    }
    if (caps.memoryBudget)
    {
        VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
        VkPhysicalDeviceMemoryProperties2 properties{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
        properties.pNext = &budget;
        vkGetPhysicalDeviceMemoryProperties2(device.GetPhysicalDevice(), &properties);
        EXPECT_GT(budget.heapBudget[0], 0u);
    }
    vkDestroyBuffer(vk, buffer, nullptr);
    vkFreeMemory(vk, memory, nullptr);
}

TEST_F(VulkanDeviceTest, SetObjectNameNamesObjectsAndIgnoresEmptyArguments)
{
    const VkBufferCreateInfo info = BufferInfo(64, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
    VkBuffer buffer = VK_NULL_HANDLE;
    ASSERT_EQ(vkCreateBuffer(GetVkDevice(), &info, nullptr, &buffer), VK_SUCCESS);
    const auto handle = reinterpret_cast<uint64_t>(buffer);
    GetDevice().SetObjectName(VK_OBJECT_TYPE_BUFFER, handle, "sedx-test-buffer");
    GetDevice().SetObjectName(VK_OBJECT_TYPE_BUFFER, handle, "renamed");
    GetDevice().SetObjectName(VK_OBJECT_TYPE_BUFFER, handle, nullptr);
    GetDevice().SetObjectName(VK_OBJECT_TYPE_BUFFER, 0, "no object");
    GetDevice().SetObjectName(VK_OBJECT_TYPE_DEVICE, reinterpret_cast<uint64_t>(GetVkDevice()),
                              "sedx-test-device");
    vkDestroyBuffer(GetVkDevice(), buffer, nullptr);
}

TEST_F(VulkanDeviceTest, SedxDeviceEnvironmentVariableChoosesTheDeviceThatCreateOpens)
{
    const std::string name = GetDevice().GetInfo().name;
    std::string namePart = name.substr(0, std::min<size_t>(name.size(), 6));
    std::transform(namePart.begin(), namePart.end(), namePart.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    VulkanDeviceOptions validated;
    validated.enableValidation = true;
    {
        ScopedEnv env("SEDX_DEVICE", namePart);
        Ref<VulkanDevice> byName = VulkanDevice::Create(validated);
        ASSERT_TRUE(byName) << "SEDX_DEVICE=" << namePart;
        EXPECT_EQ(byName->GetInfo().name.substr(0, namePart.size()), name.substr(0, namePart.size()));
        EXPECT_EQ(byName->GetValidationErrorCount() + byName->GetValidationWarningCount(), 0u);
    }
    {
        ScopedEnv env("SEDX_DEVICE", std::to_string(GetDevice().GetInfo().index));
        Ref<VulkanDevice> byIndex = VulkanDevice::Create(validated);
        ASSERT_TRUE(byIndex);
        EXPECT_EQ(byIndex->GetInfo().name, name);
        EXPECT_EQ(byIndex->GetValidationErrorCount() + byIndex->GetValidationWarningCount(), 0u);
    }
    {
        ScopedEnv env("SEDX_DEVICE", "no-such-device-anywhere");
        LogCapture capture;
        EXPECT_FALSE(VulkanDevice::Create());
        EXPECT_EQ(capture.Count(LogLevel::Error, "no-such-device-anywhere", "VulkanDevice"), 1u);
    }
    {
        // An explicit selector in the options wins over the environment.
        ScopedEnv env("SEDX_DEVICE", namePart);
        VulkanDeviceOptions options;
        options.deviceSelector = "no-such-device-anywhere";
        LogCapture capture;
        EXPECT_FALSE(VulkanDevice::Create(options));
    }
}

// ------------------------------------------------------------------ ChoosePhysicalDevice on made-up lists

class ChoosePhysicalDevice : public ::testing::Test
{
protected:
    ScopedEnv m_NoOverride{"SEDX_DEVICE", std::nullopt};
};

TEST_F(ChoosePhysicalDevice, PrefersDiscreteThenIntegratedThenVirtualThenCpu)
{
    constexpr auto kCpu = VK_PHYSICAL_DEVICE_TYPE_CPU;
    constexpr auto kVirtual = VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU;
    constexpr auto kIntegrated = VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU;
    constexpr auto kDiscrete = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
    constexpr auto kOther = VK_PHYSICAL_DEVICE_TYPE_OTHER;
    EXPECT_EQ(
        VulkanDevice::ChoosePhysicalDevice(MakeList({kCpu, kVirtual, kIntegrated, kDiscrete, kOther}), ""),
        3);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(MakeList({kDiscrete, kIntegrated, kVirtual, kCpu}), ""), 0);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(MakeList({kCpu, kIntegrated, kVirtual}), ""), 1);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(MakeList({kOther, kCpu, kVirtual}), ""), 2);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(MakeList({kOther, kCpu}), ""), 1);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(MakeList({kOther}), ""), 0);
}

TEST_F(ChoosePhysicalDevice, FirstOfEqualDevicesWins)
{
    const auto list = MakeList({VK_PHYSICAL_DEVICE_TYPE_CPU, VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU,
                                VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU});
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, ""), 1);
}

TEST_F(ChoosePhysicalDevice, SkipsDevicesBelowVulkan11)
{
    std::vector<PhysicalDeviceInfo> list{
        MakeInfo(0, "old discrete", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, VK_API_VERSION_1_0),
        MakeInfo(1, "llvmpipe", VK_PHYSICAL_DEVICE_TYPE_CPU, VK_API_VERSION_1_3)};
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, ""), 1);
    list.pop_back();
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, ""), -1);
}

TEST_F(ChoosePhysicalDevice, EmptyListGivesMinusOne)
{
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice({}, ""), -1);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice({}, "0"), -1);
}

TEST_F(ChoosePhysicalDevice, SelectsByIndex)
{
    const auto list = MakeList({VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, VK_PHYSICAL_DEVICE_TYPE_CPU,
                                VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU});
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, "0"), 0);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, "1"), 1);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, "2"), 2);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, "02"), 2);
}

TEST_F(ChoosePhysicalDevice, SelectsByCaseInsensitiveNamePart)
{
    std::vector<PhysicalDeviceInfo> list{
        MakeInfo(0, "NVIDIA H100 PCIe", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU),
        MakeInfo(1, "llvmpipe (LLVM 15.0.6, 256 bits)", VK_PHYSICAL_DEVICE_TYPE_CPU),
        MakeInfo(2, "AMD Radeon Graphics (RADV RENOIR)", VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU)};
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, "LLVMPIPE"), 1);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, "llvm"), 1);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, "radeon"), 2);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, "h100"), 0);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, "256 BITS"), 1);
}

TEST_F(ChoosePhysicalDevice, BadSelectorGivesMinusOne)
{
    const auto list = MakeList({VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, VK_PHYSICAL_DEVICE_TYPE_CPU});
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, "2"), -1);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, "99999999999999999999999"), -1);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, "-1"), -1);
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, "no such gpu"), -1);
}

TEST_F(ChoosePhysicalDevice, SedxDeviceEnvironmentVariableOverridesTheBest)
{
    const auto list = MakeList({VK_PHYSICAL_DEVICE_TYPE_CPU, VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU,
                                VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU});
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, ""), 2);
    {
        ScopedEnv env("SEDX_DEVICE", "0");
        EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, ""), 0);
        EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, "1"), 1) << "an explicit selector wins";
    }
    {
        ScopedEnv env("SEDX_DEVICE", "Integrated");
        EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, ""), 1);
    }
    {
        ScopedEnv env("SEDX_DEVICE", "no such gpu");
        EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, ""), -1)
            << "a bad override is an error, not ignored";
    }
    {
        ScopedEnv env("SEDX_DEVICE", "");
        EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, ""), 2) << "an empty override means no override";
    }
    EXPECT_EQ(VulkanDevice::ChoosePhysicalDevice(list, ""), 2);
}

// ------------------------------------------------------------------ names

TEST(VulkanNames, ResultAndDeviceTypeNamesAreReadable)
{
    EXPECT_STREQ(VkResultName(VK_SUCCESS), "VK_SUCCESS");
    EXPECT_STREQ(VkResultName(VK_ERROR_OUT_OF_DEVICE_MEMORY), "VK_ERROR_OUT_OF_DEVICE_MEMORY");
    EXPECT_STREQ(VkResultName(VK_ERROR_VALIDATION_FAILED_EXT), "VK_ERROR_VALIDATION_FAILED_EXT");
    EXPECT_STREQ(VkResultName(static_cast<VkResult>(-123456)), "VK_RESULT_UNKNOWN");
    EXPECT_STREQ(PhysicalDeviceTypeName(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU), "discrete");
    EXPECT_STREQ(PhysicalDeviceTypeName(VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU), "integrated");
    EXPECT_STREQ(PhysicalDeviceTypeName(VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU), "virtual");
    EXPECT_STREQ(PhysicalDeviceTypeName(VK_PHYSICAL_DEVICE_TYPE_CPU), "cpu");
    EXPECT_STREQ(PhysicalDeviceTypeName(VK_PHYSICAL_DEVICE_TYPE_OTHER), "other");
}
} // namespace
} // namespace SceneryEditorX
