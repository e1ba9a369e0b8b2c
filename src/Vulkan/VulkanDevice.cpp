#include <SceneryEditorX/Core/Log.h>
#include <SceneryEditorX/Vulkan/FaultInjection.h>
#include <SceneryEditorX/Vulkan/VulkanDevice.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

namespace SceneryEditorX
{
namespace
{
constexpr const char* kTag = "VulkanDevice";
constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

bool HasExtension(const std::vector<VkExtensionProperties>& list, const char* name)
{
    return std::any_of(list.begin(), list.end(),
                       [&](const VkExtensionProperties& e)
                       { return std::strcmp(e.extensionName, name) == 0; });
}

int TypeScore(VkPhysicalDeviceType type)
{
    switch (type)
    {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return 1;
    default:
        return 0;
    }
}

std::string Lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

PhysicalDeviceInfo DescribeDevice(VkPhysicalDevice device, uint32_t index)
{
    VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceProperties2 props2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    VkPhysicalDeviceProperties props{};
    vkGetPhysicalDeviceProperties(device, &props);
    PhysicalDeviceInfo info;
    if (props.apiVersion >= VK_API_VERSION_1_2)
    {
        props2.pNext = &driver;
        vkGetPhysicalDeviceProperties2(device, &props2);
        info.driverName = driver.driverName;
        info.driverInfo = driver.driverInfo;
    }
    info.index = index;
    info.name = props.deviceName;
    info.type = props.deviceType;
    info.apiVersion = props.apiVersion;
    info.driverVersion = props.driverVersion;
    return info;
}

// A throw-away instance for enumeration.
VkInstance CreateBareInstance()
{
    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "sedx-enumerate";
    app.apiVersion = VK_API_VERSION_1_1;
    VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ci.pApplicationInfo = &app;
    VkInstance instance = VK_NULL_HANDLE;
    if (vkCreateInstance(&ci, nullptr, &instance) != VK_SUCCESS)
        return VK_NULL_HANDLE;
    return instance;
}

std::vector<VkPhysicalDevice> ListDevices(VkInstance instance)
{
    uint32_t count = 0;
    vkEnumeratePhysicalDevices(instance, &count, nullptr);
    std::vector<VkPhysicalDevice> devices(count);
    if (count)
        vkEnumeratePhysicalDevices(instance, &count, devices.data());
    devices.resize(count);
    return devices;
}
} // namespace

const char* VkResultName(VkResult result)
{
    switch (result)
    {
#define SEDX_RESULT_CASE(x)                                                                                  \
    case x:                                                                                                  \
        return #x;
        SEDX_RESULT_CASE(VK_SUCCESS)
        SEDX_RESULT_CASE(VK_NOT_READY)
        SEDX_RESULT_CASE(VK_TIMEOUT)
        SEDX_RESULT_CASE(VK_EVENT_SET)
        SEDX_RESULT_CASE(VK_EVENT_RESET)
        SEDX_RESULT_CASE(VK_INCOMPLETE)
        SEDX_RESULT_CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
        SEDX_RESULT_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
        SEDX_RESULT_CASE(VK_ERROR_INITIALIZATION_FAILED)
        SEDX_RESULT_CASE(VK_ERROR_DEVICE_LOST)
        SEDX_RESULT_CASE(VK_ERROR_MEMORY_MAP_FAILED)
        SEDX_RESULT_CASE(VK_ERROR_LAYER_NOT_PRESENT)
        SEDX_RESULT_CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
        SEDX_RESULT_CASE(VK_ERROR_FEATURE_NOT_PRESENT)
        SEDX_RESULT_CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
        SEDX_RESULT_CASE(VK_ERROR_TOO_MANY_OBJECTS)
        SEDX_RESULT_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
        SEDX_RESULT_CASE(VK_ERROR_FRAGMENTED_POOL)
        SEDX_RESULT_CASE(VK_ERROR_UNKNOWN)
        SEDX_RESULT_CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
        SEDX_RESULT_CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE)
        SEDX_RESULT_CASE(VK_ERROR_FRAGMENTATION)
        SEDX_RESULT_CASE(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
        SEDX_RESULT_CASE(VK_ERROR_VALIDATION_FAILED_EXT)
        SEDX_RESULT_CASE(VK_PIPELINE_COMPILE_REQUIRED)
#undef SEDX_RESULT_CASE
    default:
        return "VK_RESULT_UNKNOWN";
    }
}

const char* PhysicalDeviceTypeName(VkPhysicalDeviceType type)
{
    switch (type)
    {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return "cpu";
    default:
        return "other";
    }
}

std::vector<PhysicalDeviceInfo> VulkanDevice::EnumeratePhysicalDevices()
{
    std::vector<PhysicalDeviceInfo> result;
    VkInstance instance = CreateBareInstance();
    if (!instance)
    {
        SEDX_CORE_ERROR_TAG(kTag, "vkCreateInstance failed: no Vulkan driver?");
        return result;
    }
    uint32_t index = 0;
    for (VkPhysicalDevice device : ListDevices(instance))
        result.push_back(DescribeDevice(device, index++));
    vkDestroyInstance(instance, nullptr);
    return result;
}

int VulkanDevice::ChoosePhysicalDevice(const std::vector<PhysicalDeviceInfo>& devices,
                                       const std::string& selector)
{
    std::string sel = selector;
    if (sel.empty())
        if (const char* env = std::getenv("SEDX_DEVICE"))
            sel = env;
    if (!sel.empty())
    {
        const bool numeric =
            std::all_of(sel.begin(), sel.end(), [](unsigned char c) { return std::isdigit(c); });
        if (numeric)
        {
            const unsigned long idx = std::strtoul(sel.c_str(), nullptr, 10);
            return idx < devices.size() ? static_cast<int>(idx) : -1;
        }
        const std::string needle = Lower(sel);
        for (const PhysicalDeviceInfo& d : devices)
            if (Lower(d.name).find(needle) != std::string::npos)
                return static_cast<int>(d.index);
        return -1;
    }
    int best = -1;
    int bestScore = -1;
    for (const PhysicalDeviceInfo& d : devices)
    {
        const int score = d.apiVersion >= VK_API_VERSION_1_1 ? TypeScore(d.type) : -1;
        if (score > bestScore)
        {
            best = static_cast<int>(d.index);
            bestScore = score;
        }
    }
    return bestScore >= 0 ? best : -1;
}

namespace
{
// Devices still alive when the process exits. A driver (NVIDIA's; the validation layer too) loaded
// while the program runs registers exit handlers of its own, which run before the destructors of
// the application's statics that were constructed earlier: a device destroyed from such a
// destructor would call into a driver that has already torn itself down. So each device
// registers an exit handler after the driver has loaded (exit handlers run in reverse order of
// registration): it destroys every device still alive while the driver is, and a device released
// later finds its handles gone.
struct LiveDevices
{
    std::mutex mutex;
    std::vector<VulkanDevice*> devices;
    std::vector<void (*)()> beforeRelease; // what must shut down while the devices are alive
};
LiveDevices& Live()
{
    static LiveDevices* const live = new LiveDevices; // never destroyed: used at exit
    return *live;
}
} // namespace

void VulkanDevice::RunBeforeReleaseAtExit(void (*fn)())
{
    LiveDevices& live = Live();
    std::lock_guard lock(live.mutex);
    if (std::find(live.beforeRelease.begin(), live.beforeRelease.end(), fn) == live.beforeRelease.end())
        live.beforeRelease.push_back(fn);
}

void VulkanDevice::ReleaseAllAtExit()
{
    LiveDevices& live = Live();
    std::vector<void (*)()> before;
    {
        std::lock_guard lock(live.mutex);
        before = live.beforeRelease;
    }
    // A device made after the memory system's handler was registered has its handler run first:
    // the system still shuts down before any device goes.
    for (void (*fn)() : before)
        fn();
    std::lock_guard lock(live.mutex);
    for (VulkanDevice* device : live.devices)
        device->Release();
    live.devices.clear();
}

Ref<VulkanDevice> VulkanDevice::Create(const VulkanDeviceOptions& options)
{
    Ref<VulkanDevice> device(new VulkanDevice());
    if (!device->Initialize(options))
        return nullptr; // the destructor releases whatever Initialize created
    LiveDevices& live = Live();
    std::lock_guard lock(live.mutex);
    live.devices.push_back(device.Raw());
    // Registered for every device: the loader may have unloaded and reloaded the driver since the
    // last one, and the newest handler runs first. A handler with no device left does nothing.
    std::atexit([] { ReleaseAllAtExit(); });
    return device;
}

bool VulkanDevice::Initialize(const VulkanDeviceOptions& options)
{
    uint32_t loaderVersion = VK_API_VERSION_1_0;
    vkEnumerateInstanceVersion(&loaderVersion);
    const uint32_t instanceVersion = std::min(options.apiVersion, loaderVersion);

    uint32_t extCount = 0;
    vkEnumerateInstanceExtensionProperties(nullptr, &extCount, nullptr);
    std::vector<VkExtensionProperties> instanceExts(extCount);
    vkEnumerateInstanceExtensionProperties(nullptr, &extCount, instanceExts.data());

    std::vector<const char*> layers;
    std::vector<const char*> instanceExtNames;
    if (HasExtension(instanceExts, VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
    {
        instanceExtNames.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
        m_Capabilities.debugUtils = true;
    }
    if (options.enableValidation)
    {
        uint32_t layerCount = 0;
        vkEnumerateInstanceLayerProperties(&layerCount, nullptr);
        std::vector<VkLayerProperties> available(layerCount);
        vkEnumerateInstanceLayerProperties(&layerCount, available.data());
        const bool found = std::any_of(available.begin(), available.end(),
                                       [](const VkLayerProperties& l)
                                       { return std::strcmp(l.layerName, kValidationLayer) == 0; });
        if (!found || !m_Capabilities.debugUtils)
        {
            SEDX_CORE_ERROR_TAG(
                kTag, "validation requested but {} is not installed (package vulkan-validationlayers)",
                kValidationLayer);
            return false;
        }
        layers.push_back(kValidationLayer);
        m_ValidationEnabled = true;
    }

    VkDebugUtilsMessengerCreateInfoEXT messengerInfo{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
    messengerInfo.messageSeverity =
        VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    messengerInfo.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                                VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    messengerInfo.pfnUserCallback = &VulkanDevice::DebugCallback;
    messengerInfo.pUserData = this;

    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = options.applicationName.c_str();
    app.pEngineName = "SceneryEditorX";
    app.apiVersion = instanceVersion;
    VkInstanceCreateInfo ici{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ici.pApplicationInfo = &app;
    ici.enabledLayerCount = static_cast<uint32_t>(layers.size());
    ici.ppEnabledLayerNames = layers.data();
    ici.enabledExtensionCount = static_cast<uint32_t>(instanceExtNames.size());
    ici.ppEnabledExtensionNames = instanceExtNames.data();
    if (m_ValidationEnabled)
        ici.pNext = &messengerInfo; // also catches messages from vkCreateInstance/vkDestroyInstance
    if (VkResult r = vkCreateInstance(&ici, nullptr, &m_Instance); r != VK_SUCCESS)
    {
        SEDX_CORE_ERROR_TAG(kTag, "vkCreateInstance failed: {}", VkResultName(r));
        m_Instance = VK_NULL_HANDLE;
        return false;
    }
    if (m_ValidationEnabled)
    {
        auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(m_Instance, "vkCreateDebugUtilsMessengerEXT"));
        if (!create || create(m_Instance, &messengerInfo, nullptr, &m_Messenger) != VK_SUCCESS)
        {
            SEDX_CORE_ERROR_TAG(kTag, "could not create the validation messenger");
            return false;
        }
    }
    if (m_Capabilities.debugUtils)
        m_SetObjectName = reinterpret_cast<PFN_vkSetDebugUtilsObjectNameEXT>(
            vkGetInstanceProcAddr(m_Instance, "vkSetDebugUtilsObjectNameEXT"));

    // Pick the physical device.
    std::vector<VkPhysicalDevice> physicalDevices = ListDevices(m_Instance);
    std::vector<PhysicalDeviceInfo> infos;
    for (uint32_t i = 0; i < physicalDevices.size(); ++i)
        infos.push_back(DescribeDevice(physicalDevices[i], i));
    const int chosen = ChoosePhysicalDevice(infos, options.deviceSelector);
    if (chosen < 0)
    {
        const char* env = std::getenv("SEDX_DEVICE");
        SEDX_CORE_ERROR_TAG(kTag, "no usable Vulkan device (found {}, selector '{}')", infos.size(),
                            !options.deviceSelector.empty() ? options.deviceSelector : (env ? env : ""));
        return false;
    }
    m_PhysicalDevice = physicalDevices[static_cast<size_t>(chosen)];
    m_Info = infos[static_cast<size_t>(chosen)];
    vkGetPhysicalDeviceProperties(m_PhysicalDevice, &m_Properties);
    vkGetPhysicalDeviceMemoryProperties(m_PhysicalDevice, &m_MemoryProperties);
    m_ApiVersion = std::min(instanceVersion, m_Properties.apiVersion);
    // Keep only major.minor: VMA compares against VK_API_VERSION_1_x.
    m_ApiVersion =
        VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(m_ApiVersion), VK_API_VERSION_MINOR(m_ApiVersion), 0);
    if (m_ApiVersion < VK_API_VERSION_1_1)
    {
        SEDX_CORE_ERROR_TAG(kTag, "device '{}' supports only Vulkan 1.0; 1.1 is required", m_Info.name);
        return false;
    }

    // The queue: graphics first (it can do everything), then compute, then transfer.
    uint32_t familyCount = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(m_PhysicalDevice, &familyCount, nullptr);
    std::vector<VkQueueFamilyProperties> families(familyCount);
    vkGetPhysicalDeviceQueueFamilyProperties(m_PhysicalDevice, &familyCount, families.data());
    int family = -1;
    for (VkQueueFlags want : {VkQueueFlags(VK_QUEUE_GRAPHICS_BIT), VkQueueFlags(VK_QUEUE_COMPUTE_BIT),
                              VkQueueFlags(VK_QUEUE_TRANSFER_BIT)})
    {
        for (uint32_t i = 0; i < familyCount && family < 0; ++i)
            if ((families[i].queueFlags & want) && families[i].queueCount > 0)
                family = static_cast<int>(i);
        if (family >= 0)
            break;
    }
    if (family < 0)
    {
        SEDX_CORE_ERROR_TAG(kTag, "device '{}' has no queue that can copy", m_Info.name);
        return false;
    }
    m_QueueFamilyIndex = static_cast<uint32_t>(family);

    // Extensions and features the allocator can use.
    uint32_t devExtCount = 0;
    vkEnumerateDeviceExtensionProperties(m_PhysicalDevice, nullptr, &devExtCount, nullptr);
    std::vector<VkExtensionProperties> deviceExts(devExtCount);
    vkEnumerateDeviceExtensionProperties(m_PhysicalDevice, nullptr, &devExtCount, deviceExts.data());

    VkPhysicalDeviceMemoryPriorityFeaturesEXT priorityFeatures{
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT};
    VkPhysicalDeviceVulkan12Features features12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    VkPhysicalDeviceVulkan13Features features13{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
    VkPhysicalDeviceMaintenance4Features maintenance4Features{
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_FEATURES};
    VkPhysicalDeviceFeatures2 supported{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};

    const bool hasBudget = HasExtension(deviceExts, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    const bool hasPriority = HasExtension(deviceExts, VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME);
    const bool hasMaint4Ext = HasExtension(deviceExts, VK_KHR_MAINTENANCE_4_EXTENSION_NAME);
    void* chain = nullptr;
    if (hasPriority)
    {
        priorityFeatures.pNext = chain;
        chain = &priorityFeatures;
    }
    if (m_ApiVersion >= VK_API_VERSION_1_2)
    {
        features12.pNext = chain;
        chain = &features12;
    }
    if (m_ApiVersion >= VK_API_VERSION_1_3)
    {
        features13.pNext = chain;
        chain = &features13;
    }
    else if (hasMaint4Ext)
    {
        maintenance4Features.pNext = chain;
        chain = &maintenance4Features;
    }
    supported.pNext = chain;
    vkGetPhysicalDeviceFeatures2(m_PhysicalDevice, &supported);

    // Enable exactly the bits we use (everything else off), re-using the queried structs.
    std::vector<const char*> enableExts;
    m_Capabilities.dedicatedAllocation = true; // core in 1.1
    m_Capabilities.bindMemory2 = true;         // core in 1.1
    if (hasBudget)
    {
        enableExts.push_back(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
        m_Capabilities.memoryBudget = true;
    }
    const bool priorityOn = hasPriority && priorityFeatures.memoryPriority;
    priorityFeatures.memoryPriority = priorityOn ? VK_TRUE : VK_FALSE;
    if (priorityOn)
    {
        enableExts.push_back(VK_EXT_MEMORY_PRIORITY_EXTENSION_NAME);
        m_Capabilities.memoryPriority = true;
    }
    const bool bdaOn = m_ApiVersion >= VK_API_VERSION_1_2 && features12.bufferDeviceAddress;
    const bool maint4On = m_ApiVersion >= VK_API_VERSION_1_3
                              ? features13.maintenance4 == VK_TRUE
                              : (hasMaint4Ext && maintenance4Features.maintenance4);
    {
        VkPhysicalDeviceVulkan12Features on12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
        on12.bufferDeviceAddress = bdaOn ? VK_TRUE : VK_FALSE;
        VkPhysicalDeviceVulkan13Features on13{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
        on13.maintenance4 = maint4On ? VK_TRUE : VK_FALSE;
        on12.pNext = priorityOn ? &priorityFeatures : nullptr;
        priorityFeatures.pNext = nullptr;
        void* enableChain = priorityOn ? static_cast<void*>(&priorityFeatures) : nullptr;
        if (m_ApiVersion >= VK_API_VERSION_1_2)
            enableChain = &on12;
        if (m_ApiVersion >= VK_API_VERSION_1_3)
        {
            on13.pNext = enableChain;
            enableChain = &on13;
        }
        else if (maint4On)
        {
            enableExts.push_back(VK_KHR_MAINTENANCE_4_EXTENSION_NAME);
            maintenance4Features.pNext = enableChain;
            maintenance4Features.maintenance4 = VK_TRUE;
            enableChain = &maintenance4Features;
        }
        m_Capabilities.bufferDeviceAddress = bdaOn;
        m_Capabilities.maintenance4 = maint4On;

        VkPhysicalDeviceFeatures2 enabled{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
        enabled.pNext = enableChain;
        const float priority = 1.0f;
        VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
        qci.queueFamilyIndex = m_QueueFamilyIndex;
        qci.queueCount = 1;
        qci.pQueuePriorities = &priority;
        VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
        dci.pNext = &enabled;
        dci.queueCreateInfoCount = 1;
        dci.pQueueCreateInfos = &qci;
        dci.enabledExtensionCount = static_cast<uint32_t>(enableExts.size());
        dci.ppEnabledExtensionNames = enableExts.data();
        if (VkResult r = vkCreateDevice(m_PhysicalDevice, &dci, nullptr, &m_Device); r != VK_SUCCESS)
        {
            SEDX_CORE_ERROR_TAG(kTag, "vkCreateDevice on '{}' failed: {}", m_Info.name, VkResultName(r));
            m_Device = VK_NULL_HANDLE;
            return false;
        }
    }
    for (const char* e : enableExts)
        m_EnabledExtensions.emplace_back(e);
    vkGetDeviceQueue(m_Device, m_QueueFamilyIndex, 0, &m_Queue);

    SEDX_CORE_INFO_TAG(kTag, "device '{}' ({}, Vulkan {}.{}), queue family {}, validation {}", m_Info.name,
                       PhysicalDeviceTypeName(m_Info.type), VK_API_VERSION_MAJOR(m_ApiVersion),
                       VK_API_VERSION_MINOR(m_ApiVersion), m_QueueFamilyIndex,
                       m_ValidationEnabled ? "on" : "off");
    return true;
}

VulkanDevice::~VulkanDevice()
{
    {
        LiveDevices& live = Live();
        std::lock_guard lock(live.mutex);
        live.devices.erase(std::remove(live.devices.begin(), live.devices.end(), this), live.devices.end());
    }
    Release();
}

void VulkanDevice::Release()
{
    if (m_Device)
    {
        vkDeviceWaitIdle(m_Device);
        vkDestroyDevice(m_Device, nullptr);
    }
    if (m_Messenger)
    {
        auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(m_Instance, "vkDestroyDebugUtilsMessengerEXT"));
        if (destroy)
            destroy(m_Instance, m_Messenger, nullptr);
    }
    if (m_Instance)
        vkDestroyInstance(m_Instance, nullptr);
    m_Device = VK_NULL_HANDLE;
    m_Messenger = VK_NULL_HANDLE;
    m_Instance = VK_NULL_HANDLE;
}

VkResult VulkanDevice::Submit(uint32_t submitCount, const VkSubmitInfo* submits, VkFence fence) const
{
    if (VkResult injected = FaultInjection::Check(FaultInjection::Point::QueueSubmit); injected != VK_SUCCESS)
        return injected;
    std::lock_guard lock(m_QueueMutex);
    return vkQueueSubmit(m_Queue, submitCount, submits, fence);
}

VkResult VulkanDevice::WaitIdle() const
{
    std::lock_guard lock(m_QueueMutex);
    return vkDeviceWaitIdle(m_Device);
}

VkResult VulkanDevice::RunOneTimeCommands(const std::function<void(VkCommandBuffer)>& record) const
{
    return RunOneTimeCommands(record, nullptr);
}

VkResult VulkanDevice::RunOneTimeCommands(const std::function<void(VkCommandBuffer)>& record,
                                          const std::function<void()>& afterSubmit) const
{
    // A transient pool per call: command pools are externally synchronized, and this keeps
    // concurrent callers independent without a pool lock.
    VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pci.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
    pci.queueFamilyIndex = m_QueueFamilyIndex;
    VkCommandPool pool = VK_NULL_HANDLE;
    if (VkResult r = vkCreateCommandPool(m_Device, &pci, nullptr, &pool); r != VK_SUCCESS)
        return r;
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    VkFence fence = VK_NULL_HANDLE;
    VkResult result = VK_SUCCESS;
    do
    {
        VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
        ai.commandPool = pool;
        ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
        ai.commandBufferCount = 1;
        if ((result = vkAllocateCommandBuffers(m_Device, &ai, &cmd)) != VK_SUCCESS)
            break;
        VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
        bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
        if ((result = vkBeginCommandBuffer(cmd, &bi)) != VK_SUCCESS)
            break;
        record(cmd);
        if ((result = vkEndCommandBuffer(cmd)) != VK_SUCCESS)
            break;
        VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        if ((result = vkCreateFence(m_Device, &fci, nullptr, &fence)) != VK_SUCCESS)
            break;
        VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
        si.commandBufferCount = 1;
        si.pCommandBuffers = &cmd;
        if ((result = Submit(1, &si, fence)) != VK_SUCCESS)
            break;
        if (afterSubmit)
            afterSubmit();
        result = vkWaitForFences(m_Device, 1, &fence, VK_TRUE, UINT64_MAX);
    } while (false);
    if (fence)
        vkDestroyFence(m_Device, fence, nullptr);
    vkDestroyCommandPool(m_Device, pool, nullptr); // frees the command buffer too
    return result;
}

void VulkanDevice::SetObjectName(VkObjectType type, uint64_t handle, const char* name) const
{
    if (!m_SetObjectName || !handle || !name)
        return;
    VkDebugUtilsObjectNameInfoEXT info{VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT};
    info.objectType = type;
    info.objectHandle = handle;
    info.pObjectName = name;
    m_SetObjectName(m_Device, &info);
}

std::vector<std::string> VulkanDevice::GetValidationMessages() const
{
    std::lock_guard lock(m_MessageMutex);
    return m_Messages;
}

void VulkanDevice::ResetValidationCounts()
{
    std::lock_guard lock(m_MessageMutex);
    m_ValidationErrors = 0;
    m_ValidationWarnings = 0;
    m_Messages.clear();
}

VKAPI_ATTR VkBool32 VKAPI_CALL VulkanDevice::DebugCallback(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                           VkDebugUtilsMessageTypeFlagsEXT,
                                                           const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                           void* user)
{
    auto* self = static_cast<VulkanDevice*>(user);
    const char* text = data && data->pMessage ? data->pMessage : "(no message)";
    const bool isError = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) != 0;
    if (isError)
    {
        ++self->m_ValidationErrors;
        SEDX_CORE_ERROR_TAG("Validation", "{}", text);
    }
    else
    {
        ++self->m_ValidationWarnings;
        SEDX_CORE_WARN_TAG("Validation", "{}", text);
    }
    {
        std::lock_guard lock(self->m_MessageMutex);
        if (self->m_Messages.size() >= 32)
            self->m_Messages.erase(self->m_Messages.begin());
        self->m_Messages.emplace_back(text);
    }
    return VK_FALSE;
}

} // namespace SceneryEditorX
