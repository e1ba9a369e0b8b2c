#pragma once
/// @file VulkanDevice.h
/// A headless Vulkan instance + device, created in one call. It picks the best physical device
/// (discrete > integrated > virtual > CPU; `SEDX_DEVICE=<index or name part>` overrides), enables
/// what the memory allocator can use where present, owns the queue the library submits to, and
/// optionally runs the Khronos validation layer with counted messages.
///
/// Thread safety: all const getters may be called from any thread. `Submit`, `RunOneTimeCommands`
/// and `WaitIdle` serialize on the queue mutex, so they may be called from several threads at once.
/// Anyone who calls `vkQueueSubmit` on `GetQueue()` directly must hold `GetQueueMutex()`.

#include <SceneryEditorX/Core/Ref.h>

#include <vulkan/vulkan.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace SceneryEditorX
{

/// Name of a VkResult, e.g. "VK_ERROR_OUT_OF_DEVICE_MEMORY".
const char* VkResultName(VkResult result);
/// Name of a physical device type, e.g. "discrete".
const char* PhysicalDeviceTypeName(VkPhysicalDeviceType type);

struct VulkanDeviceOptions
{
    std::string applicationName = "SceneryEditorX";
    /// Highest API version asked for; the device gets min(this, loader, physical device).
    uint32_t apiVersion = VK_API_VERSION_1_3;
    /// Enables VK_LAYER_KHRONOS_validation and a messenger that counts errors and warnings.
    bool enableValidation = false;
    /// Index or case-insensitive name part of the device to use. Empty: `SEDX_DEVICE`, then the best.
    std::string deviceSelector;
};

/// What the device has turned on that the allocator can use.
struct DeviceCapabilities
{
    bool memoryBudget = false;        ///< VK_EXT_memory_budget
    bool memoryPriority = false;      ///< VK_EXT_memory_priority + memoryPriority feature
    bool dedicatedAllocation = false; ///< core 1.1 (or VK_KHR_dedicated_allocation)
    bool bindMemory2 = false;         ///< core 1.1 (or VK_KHR_bind_memory2)
    bool bufferDeviceAddress = false; ///< core 1.2 feature bufferDeviceAddress
    bool maintenance4 = false;        ///< core 1.3 feature maintenance4 (or VK_KHR_maintenance4)
    bool debugUtils = false;          ///< VK_EXT_debug_utils on the instance (object names)
};

/// One physical device as seen by `EnumeratePhysicalDevices`.
struct PhysicalDeviceInfo
{
    uint32_t index = 0;
    std::string name;
    VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
    uint32_t apiVersion = 0;
    uint32_t driverVersion = 0;
    std::string driverName; ///< from VkPhysicalDeviceDriverProperties
    std::string driverInfo;
};

class VulkanDevice : public RefCounted
{
public:
    /// Creates instance and device. Returns null (and logs one tagged error) on failure. A device
    /// still alive when the process exits is destroyed by an exit handler that runs before the
    /// driver's own (see docs/ARCHITECTURE.md, "Process exit"); releasing it later, from a static
    /// destructor, then does nothing.
    static Ref<VulkanDevice> Create(const VulkanDeviceOptions& options = {});
    /// Registers `fn` (once) to run at process exit before the devices still alive are destroyed
    /// (the memory system's shutdown at exit). `fn` must do nothing when there is nothing to do.
    static void RunBeforeReleaseAtExit(void (*fn)());
    /// Lists the physical devices without creating a device. Empty on failure.
    static std::vector<PhysicalDeviceInfo> EnumeratePhysicalDevices();
    /// The index `Create` would choose for `selector` (empty: `SEDX_DEVICE`, then the best), or -1.
    static int ChoosePhysicalDevice(const std::vector<PhysicalDeviceInfo>& devices,
                                    const std::string& selector);

    ~VulkanDevice() override;
    VulkanDevice(const VulkanDevice&) = delete;
    VulkanDevice& operator=(const VulkanDevice&) = delete;

    VkInstance GetInstance() const { return m_Instance; }
    VkPhysicalDevice GetPhysicalDevice() const { return m_PhysicalDevice; }
    VkDevice GetDevice() const { return m_Device; }
    const PhysicalDeviceInfo& GetInfo() const { return m_Info; }
    const VkPhysicalDeviceProperties& GetProperties() const { return m_Properties; }
    const VkPhysicalDeviceMemoryProperties& GetMemoryProperties() const { return m_MemoryProperties; }
    const DeviceCapabilities& GetCapabilities() const { return m_Capabilities; }
    const std::vector<std::string>& GetEnabledExtensions() const { return m_EnabledExtensions; }
    /// The API version the device was created for (what the allocator may use).
    uint32_t GetApiVersion() const { return m_ApiVersion; }

    uint32_t GetQueueFamilyIndex() const { return m_QueueFamilyIndex; }
    /// The shared queue. Externally synchronized: hold `GetQueueMutex()` around any direct use.
    VkQueue GetQueue() const { return m_Queue; }
    std::mutex& GetQueueMutex() const { return m_QueueMutex; }

    /// `vkQueueSubmit` under the queue lock.
    VkResult Submit(uint32_t submitCount, const VkSubmitInfo* submits, VkFence fence) const;
    /// Records `record` into a fresh primary command buffer, submits it through `Submit` and waits
    /// for it. Any thread. Returns the first failing VkResult.
    VkResult RunOneTimeCommands(const std::function<void(VkCommandBuffer)>& record) const;
    /// The same, calling `afterSubmit` (when set) once the commands are submitted and before the
    /// wait for their fence.
    VkResult RunOneTimeCommands(const std::function<void(VkCommandBuffer)>& record,
                                const std::function<void()>& afterSubmit) const;
    /// `vkDeviceWaitIdle` under the queue lock.
    VkResult WaitIdle() const;

    /// Gives a Vulkan object a debug name (no-op without VK_EXT_debug_utils).
    void SetObjectName(VkObjectType type, uint64_t handle, const char* name) const;

    bool IsValidationEnabled() const { return m_ValidationEnabled; }
    uint32_t GetValidationErrorCount() const { return m_ValidationErrors.load(); }
    uint32_t GetValidationWarningCount() const { return m_ValidationWarnings.load(); }
    /// The last validation messages (errors and warnings), newest last, at most 32.
    std::vector<std::string> GetValidationMessages() const;
    void ResetValidationCounts();

private:
    // Destroys the device, messenger and instance now and forgets them (the destructor, and the exit
    // handler for devices still alive at exit).
    void Release();
    static void ReleaseAllAtExit();
    VulkanDevice() = default;
    bool Initialize(const VulkanDeviceOptions& options);
    static VKAPI_ATTR VkBool32 VKAPI_CALL DebugCallback(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                        VkDebugUtilsMessageTypeFlagsEXT types,
                                                        const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                        void* user);

    VkInstance m_Instance = VK_NULL_HANDLE;
    VkDebugUtilsMessengerEXT m_Messenger = VK_NULL_HANDLE;
    VkPhysicalDevice m_PhysicalDevice = VK_NULL_HANDLE;
    VkDevice m_Device = VK_NULL_HANDLE;
    VkQueue m_Queue = VK_NULL_HANDLE;
    uint32_t m_QueueFamilyIndex = 0;
    uint32_t m_ApiVersion = 0;
    PhysicalDeviceInfo m_Info;
    VkPhysicalDeviceProperties m_Properties{};
    VkPhysicalDeviceMemoryProperties m_MemoryProperties{};
    DeviceCapabilities m_Capabilities;
    std::vector<std::string> m_EnabledExtensions;
    PFN_vkSetDebugUtilsObjectNameEXT m_SetObjectName = nullptr;

    mutable std::mutex m_QueueMutex;
    bool m_ValidationEnabled = false;
    std::atomic<uint32_t> m_ValidationErrors{0};
    std::atomic<uint32_t> m_ValidationWarnings{0};
    mutable std::mutex m_MessageMutex;
    std::vector<std::string> m_Messages;
};

} // namespace SceneryEditorX
